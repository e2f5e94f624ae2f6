"""What `codeact train` prints: one bar and a line per step window, no raw dicts, no
tqdm bars and no third-party deprecation notices; checked on a real tiny training run."""

from __future__ import annotations

import importlib
import io
import re
import warnings

import pytest
from train_helpers import tiny_checkpoint, write_codeact_jsonl

from codeact.train.progress import default_window, format_line, quiet_third_party

LINE = re.compile(r"^step +\d+/\d+  loss \d+\.\d{4}  lr \d\.\d\de[-+]\d\d  [\d,]+ tok/s  "
                  r"\d+:\d\d:\d\d$")


def test_line_format_and_window() -> None:
    line = format_line(20, 200, 1.23456, 2e-4, 1234.5, 65)
    assert line == "step  20/200  loss 1.2346  lr 2.00e-04  1,234 tok/s  0:01:05"
    assert LINE.match(line)
    assert format_line(1, 5, None, None, None, 0) == "step 1/5  loss -  lr -  - tok/s  0:00:00"
    assert default_window(200) == 20 and default_window(5) == 1 and default_window(-1) == 10


def test_only_the_training_libraries_notices_are_silenced() -> None:
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        with quiet_third_party():
            for module in ("transformers.modeling_utils", "trl.trainer", "peft", "user_code"):
                warnings.warn_explicit(f"old api in {module}", FutureWarning, "x.py", 1,
                                       module=module)
            warnings.warn_explicit("user deprecation", DeprecationWarning, "y.py", 1,
                                   module="user_code")
            warnings.warn_explicit("a real problem", UserWarning, "z.py", 1,
                                   module="transformers.trainer")
            # seen at each adapter save of a GGUF-loaded base: bookkeeping, not a problem
            warnings.warn_explicit("Could not find a config file in /cache/models - will "
                                   "assume that the vocabulary was not modified.",
                                   UserWarning, "save_and_load.py", 313,
                                   module="peft.utils.save_and_load")
            warnings.warn_explicit("Could not find a config file in /x", UserWarning,
                                   "z.py", 2, module="user_code")
        warnings.warn_explicit("after the run", FutureWarning, "x.py", 2,
                               module="transformers.modeling_utils")
    assert sorted(str(w.message) for w in got) == [
        "Could not find a config file in /x", "a real problem", "after the run",
        "old api in user_code", "user deprecation"]


def test_library_progress_bars_are_off_during_the_run_and_restored() -> None:
    pytest.importorskip("transformers")
    from datasets.utils import logging as ds_logging
    from transformers.utils import logging as tf_logging

    gguf_loader = importlib.import_module("transformers.modeling_gguf_pytorch_utils")
    assert tf_logging.is_progress_bar_enabled() and ds_logging.is_progress_bar_enabled()
    with quiet_third_party():
        assert not tf_logging.is_progress_bar_enabled()
        assert not ds_logging.is_progress_bar_enabled()
        # a registry base is a GGUF file: its loader's bar is plain tqdm (seen in a run)
        assert gguf_loader.tqdm(range(2)).disable
    assert tf_logging.is_progress_bar_enabled() and ds_logging.is_progress_bar_enabled()
    assert not gguf_loader.tqdm(range(2), file=io.StringIO()).disable


def test_a_real_run_prints_one_bar_and_window_lines_only(tmp_path, capfd) -> None:
    pytest.importorskip("trl")
    from codeact.train.trainer import TrainConfig, train

    base = tiny_checkpoint(tmp_path / "base")
    data = write_codeact_jsonl(tmp_path / "d.jsonl", 8)
    capfd.readouterr()
    summary = train(TrainConfig(data=[data], base=str(base), out=tmp_path / "out",
                                max_steps=6, batch_size=2, grad_accum=1, max_length=256,
                                gradient_checkpointing=False, save_steps=1000, merge=True,
                                log_window=2))
    out, err = capfd.readouterr()
    lines = summary["progress_lines"]
    assert len(lines) == 3 and all(LINE.match(x) for x in lines), lines
    assert [x.split()[1] for x in lines] == ["2/6", "4/6", "6/6"]
    for line in lines:
        assert line in out
    assert "{'loss'" not in out + err and "'train_runtime'" not in out + err
    assert "FutureWarning" not in err and "it/s]" not in err and "Loading weights" not in err
    assert "Writing model shards" not in err
    quiet = train(TrainConfig(data=[data], base=str(base), out=tmp_path / "q", max_steps=2,
                              batch_size=2, grad_accum=1, max_length=256, merge=False,
                              gradient_checkpointing=False, progress=False))
    out, err = capfd.readouterr()
    assert quiet["progress_lines"] == [] and "step" not in out and "{'loss'" not in out
