"""The ``rlcore rlhf`` pipeline end to end: it runs, it writes its figures, and alignment beats the SFT model."""

from __future__ import annotations

import json

import pytest

from rlcore.cli import main


def test_rlhf_command_runs_the_pipeline_and_alignment_helps(tmp_path, capsys):
    assert main(["rlhf", "--out", str(tmp_path), "--json", "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    s = out["scores"]
    assert s["SFT"]["kl"] == 0.0 and abs(s["SFT"]["win_rate"] - 0.5) < 0.05    # the SFT model against itself
    for name in ("PPO + RM", "DPO"):                                            # judged by the hidden gold reward
        assert s[name]["gold"] > s["SFT"]["gold"] + 0.2 and s[name]["win_rate"] > 0.7, name
    assert out["rm_accuracy"] > 0.8 and out["peak_rss_mb"] < 1024
    for name in ("rlhf_reward_model.png", "rlhf_ppo.png", "rlhf_dpo.png"):
        assert (tmp_path / name).stat().st_size > 10_000


def test_rlhf_command_rejects_a_bad_seed(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["rlhf", "--seed", "-1", "--no-progress"])
    assert exc.value.code == 2 and "--seed" in capsys.readouterr().err
