"""The bad-input matrix: each config mistake stops `snakemake` at start-up, before any job, with a
message naming the key or file and the fix, and nothing written under results_dir. (The step CLIs'
own bad inputs are tested with each step: weights files in test_weights_safety, masks in test_masks,
datasets in test_datasets, evaluation in test_evaluate.)"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO

TINY = (REPO / "config/tiny.yaml").read_text()


def _syntax_error(config, tmp):
    bad = tmp / "broken.py"
    bad.write_text((REPO / "config/models/faster-rcnn_r18-c4_tiny.py").read_text().replace("dict(", "dict((", 1))
    config["models"]["faster_rcnn_r18_c4"]["config"] = str(bad)
    return [f"models.faster_rcnn_r18_c4.config: syntax error in {bad}, line", "fix the file"]


def _late_rewind(config, tmp):
    config["models"]["mask_rcnn_r18_fpn"]["rewind_iter"] = 10
    return ["models.mask_rcnn_r18_fpn.rewind_iter 10 is not before the end of training (train_cfg.max_iters 6",
            "set a rewind_iter below it"]


def _misspelt_option(config, tmp):
    config["models"]["mask_rcnn_r18_fpn"]["cfg_options"]["train_cfg.max_iter"] = 5
    return ["models.mask_rcnn_r18_fpn.cfg_options: 'train_cfg.max_iter' is not a key of the model config",
            "did you mean train_cfg.max_iters?"]


def _config_typo(config, tmp):
    config["models"]["mask_rcnn_r18_fpn"]["config"] = "config/models/mask-rcnn_r18-fpn_tniy.py"
    return ["models.mask_rcnn_r18_fpn.config:", "mask-rcnn_r18-fpn_tniy.py does not exist: did you mean",
            "mask-rcnn_r18-fpn_tiny.py?"]


def _results_under_a_file(config, tmp):
    (tmp / "a_file").write_text("")
    config["results_dir"] = str(tmp / "a_file/results")
    return [f"{tmp / 'a_file'} is not a writable folder", "choose a folder you can write"]


def _old_key(config, tmp):
    config["ticket_transfers"] = config.pop("imagenet_transfers")
    return ["ticket_transfers is no longer a config key", "rename `ticket_transfers` to `imagenet_transfers`"]


def _schema(config, tmp):
    config["strategies"]["global_oneshot"]["groups"] = ["backbone_bsae"]
    return ["strategies.global_oneshot.groups.0: 'backbone_bsae' is not one of ['backbone_base'",
            "(the `strategies` keys: config/README.md)"]


def _unknown_reference(config, tmp):
    config["experiments"]["oneshot"]["strategy"] = "global_one_shot"
    return ["experiments.oneshot.strategy 'global_one_shot' is not a key of `strategies`"]


CASES = {f.__name__[1:]: f for f in (_syntax_error, _late_rewind, _misspelt_option, _config_typo,
                                     _results_under_a_file, _old_key, _schema, _unknown_reference)}


def _snakemake(tmp_path, *args):
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("case", CASES)
def test_a_config_mistake_stops_the_run_before_any_job(case, tmp_path):
    config = yaml.safe_load(TINY)
    config["results_dir"] = str(tmp_path / "results")
    expected = CASES[case](config, tmp_path)
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(config))
    proc = _snakemake(tmp_path, "--configfile", str(tmp_path / "bad.yaml"))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    for text in expected:
        assert text in output, (text, output[-2000:])
    assert not (tmp_path / "results").exists() and not Path(config["results_dir"]).exists()


def test_a_key_given_twice_in_the_config_file(tmp_path):
    text = TINY.replace("experiments:\n", "experiments:\n  oneshot: {model: x, strategy: y, prune_percents: [1], "
                                          "seeds: [0]}\n", 1)
    (tmp_path / "twice.yaml").write_text(text.replace("results_dir: results/tiny", f"results_dir: {tmp_path / 'results'}"))
    proc = _snakemake(tmp_path, "--configfile", str(tmp_path / "twice.yaml"))
    assert proc.returncode != 0 and "key 'oneshot' is given twice in one section" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


def test_zero_cores_stops_at_once(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "0", "--configfile", str(REPO / "config/tiny.yaml"),
                           "--config", f"results_dir={tmp_path / 'results'}"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0 and "--cores 0 runs no job" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()
