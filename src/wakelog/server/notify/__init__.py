"""Alerts and notifications: who hears of what a run did, and how.

Events (``events.py``): ``alert`` (``wandb.alert()``, rate-limited per title by the store), a run
``finished`` or ``failed`` (with the traceback's last line), ``crashed`` (its heartbeat went stale)
and ``threshold`` (a project's metric rule, ``rules.py``). They are made in the transaction that
caused them — ingest's (``ingest.py``) or the dispatcher's crash scan — and fanned out there
(``fanout.py``) by the subscription settings (``settings.py``): an in-app notification row per user
(``inbox.py``, pushed live on ``user:<id>``), and an outbox row per e-mail address or webhook.
The dispatcher (``dispatcher.py``) sends the outbox off the request path (``senders.py``,
``formats.py``), retrying with backoff, so a slow or broken target never holds ingest up.
"""
