"""The Rasa component, run inside the Rasa environment (.venv-rasa) with only rasa and fugashi."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.rasa

SCRIPT = r"""
import json, sys
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from bot.nlu import JapaneseTokenizer

from pathlib import Path
storage = LocalModelStorage(Path(sys.argv[1]))
resource = Resource("tokenizer")
config = {**JapaneseTokenizer.get_default_config(), "terms_path": "faq/terms.yml"}
tok = JapaneseTokenizer.create(config, storage, resource, ExecutionContext(None))
tok.train(TrainingData())
loaded = JapaneseTokenizer.load(
    {**JapaneseTokenizer.get_default_config()}, storage, resource, ExecutionContext(None)
)
out = {}
for text in sys.argv[2:]:
    message = Message.build(text=text)
    loaded.process([message])
    out[text] = [[t.text, t.start, t.end, t.lemma] for t in message.get("text_tokens")]
print(json.dumps(out, ensure_ascii=False))
"""


def test_tokenizer_in_rasa(tmp_path) -> None:
    texts = [
        "引越しの手続き",
        "引っ越ししました",
        "ｶｰﾄﾞを失くした",
        "マイナ保険証を使いたい",
        "子どもの医療費",
    ]
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [str(PROJECT_ROOT / ".venv-rasa" / "bin" / "python"), "-c", SCRIPT, str(tmp_path), *texts],
        cwd=PROJECT_ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    tokens = json.loads(result.stdout.strip().splitlines()[-1])
    assert tokens["引越しの手続き"][0][3] == tokens["引っ越ししました"][0][3] == "引っ越し"
    # offsets index the original text even where NFKC changed it
    text = "ｶｰﾄﾞを失くした"
    card = tokens[text][0]
    assert card[0] == "カード" and text[card[1] : card[2]] == "ｶｰﾄﾞ"
    # the term table was stored with the model and used after loading
    assert tokens["マイナ保険証を使いたい"][0][:3] == ["マイナ保険証", 0, 6]
    assert tokens["子どもの医療費"][0][3] == "子供"
