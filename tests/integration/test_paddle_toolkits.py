"""Paddle toolkits' own wandb hooks record with wakelog through the opt-in alias, unchanged.

PaddleNLP's ``Trainer(report_to="wandb")`` runs a tiny BERT built from its config (no download)
on CPU in a subprocess whose only wakelog part is the alias folder on ``PYTHONPATH``, as in
``python -m wakelog.integration.paddle with-alias python train.py``. The toolkit is not a wakelog
dependency (see docs/paddle.md for why), so the test is skipped when it is not installed.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from tests._env import child_env
from tests._env import pythonpath as child_pythonpath
from tests.conftest import history, records, user_keys
from wakelog.integration.paddle import alias_path

pytestmark = [pytest.mark.paddle, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]

# A PaddleNLP script as its users write it; nothing in it mentions wakelog.
PADDLENLP_SCRIPT = """
import sys
import warnings
warnings.simplefilter("ignore")
import numpy as np
import paddle
from paddlenlp.trainer import Trainer, TrainingArguments
from paddlenlp.transformers import BertConfig, BertForSequenceClassification

class Tiny(paddle.io.Dataset):
    def __init__(self, n):
        rng = np.random.default_rng(0)
        self.x = rng.integers(1, 50, (n, 8)).astype("int64")
        self.y = rng.integers(0, 2, (n,)).astype("int64")
    def __len__(self):
        return len(self.y)
    def __getitem__(self, i):
        return {"input_ids": self.x[i], "labels": self.y[i]}

paddle.seed(0)
config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                    intermediate_size=32, max_position_embeddings=16, num_labels=2)
args = TrainingArguments(output_dir="out", logging_dir="out/logs", report_to=["wandb"], run_name="tiny-bert",
                         max_steps=6, logging_steps=2, evaluation_strategy="steps", eval_steps=3,
                         per_device_train_batch_size=4, per_device_eval_batch_size=4, save_strategy="no",
                         disable_tqdm=True, device="cpu", seed=0)
trainer = Trainer(model=BertForSequenceClassification(config), args=args, train_dataset=Tiny(16),
                  eval_dataset=Tiny(8))
trainer.train()
import wandb
print("wandb module:", wandb.__name__)
"""


def test_paddlenlp_trainer_report_to_wandb_records_with_wakelog(tmp_path: Path) -> None:
    if importlib.util.find_spec("paddlenlp") is None:
        pytest.skip("PaddleNLP is not installed (pip install paddlenlp; see docs/paddle.md)")
    environ = child_env(WANDB_PROJECT="nlp-tiny", WAKELOG_MODE="offline")
    environ["PYTHONPATH"] = child_pythonpath(alias_path(), REPO)
    done = subprocess.run(
        [sys.executable, "-c", PADDLENLP_SCRIPT],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environ,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "wandb module: wakelog" in done.stdout
    (run_dir,) = (tmp_path / "out" / "logs" / "wakelog").glob("offline-run-*")
    (run,) = [r.data for r in records(run_dir, "run") if "project" in r.data]
    assert run["project"] == "nlp-tiny" and run["name"] == "tiny-bert"
    config = {k: v for r in records(run_dir, "config") for k, v in r.data.get("update", {}).items()}
    assert config["hidden_size"] == 16 and config["max_steps"] == 6
    definitions = {r.data["name"]: r.data for r in records(run_dir, "metric")}
    assert definitions["*"]["step_metric"] == "train/global_step"
    rows = [user_keys(row) for row in history(run_dir)]
    assert [r["train/global_step"] for r in rows if "train/loss" in r] == [2, 4, 6]
    assert [r["train/global_step"] for r in rows if "eval/loss" in r] == [3, 6]
    assert rows[-1]["train/train_loss"] > 0
