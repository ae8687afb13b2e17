"""One worker of the two-process test (run by ``python -m paddle.distributed.launch``).

Phase 1 trains with ``WakelogCallback`` under the default setting (only global rank 0 records);
phase 2 sets ``WAKELOG_DISTRIBUTED=all`` (read by ``wakelog.init``) and every rank records its
own run. Gradients are all-reduced over gloo between the two CPU processes.
"""

from __future__ import annotations

import os
import sys
import warnings

warnings.simplefilter("ignore")

import paddle  # noqa: E402
import paddle.distributed as dist  # noqa: E402

import wakelog  # noqa: E402
from tests.integration.paddle_helpers import Digits, hapi_model  # noqa: E402
from wakelog.integration.paddle import WakelogCallback, seed_everything  # noqa: E402

out = sys.argv[1]
dist.init_parallel_env()
seed_everything(0)
rank = dist.get_rank()

# Phase 1: paddle.Model.fit (hapi wraps the network in DataParallel and shards the data).
callback = WakelogCallback(project="dist", name="fit", dir=f"{out}/rank0", log_freq=1, finish=True)
model = hapi_model()
model.fit(Digits(0, 64), Digits(64, 96), batch_size=8, epochs=1, verbose=0, callbacks=[callback])
print(f"rank {rank}: phase 1 run disabled={callback.run.disabled}", flush=True)

# Phase 2: every rank records, one group.
os.environ["WAKELOG_DISTRIBUTED"] = "all"
run = wakelog.init(project="dist", name="manual", dir=f"{out}/all", mode="offline")
layer = paddle.nn.Linear(4, 2)
network = paddle.DataParallel(layer)
optimizer = paddle.optimizer.SGD(learning_rate=0.1, parameters=network.parameters())
for _ in range(3):
    loss = network(paddle.full([2, 4], float(rank + 1))).mean()
    loss.backward()
    optimizer.step()
    optimizer.clear_grad()
    wakelog.log({"loss": loss, "rank": rank, "weight_sum": layer.weight.sum()})
run.finish()
print(f"rank {rank}: done", flush=True)
