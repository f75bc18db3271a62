"""Start-up checks of a workflow config (lthsteps.config_check): renamed keys, cross-references."""
from __future__ import annotations

import copy

import pytest
import yaml

from conftest import REPO
from lthsteps.config_check import ConfigError, check, check_config_files, check_cores, check_renamed, check_schema

TINY = yaml.safe_load((REPO / "config/tiny.yaml").read_text())


def _config(**changes):
    config = copy.deepcopy(TINY)
    config.setdefault("comparisons", {})
    config.update(changes)
    return config


@pytest.mark.parametrize("old, new", [("ticket_transfers", "imagenet_transfers"), ("transfers", "task_transfers")])
def test_a_renamed_key_names_its_new_name(old, new):
    config = _config()
    config[old] = config.pop(new)
    with pytest.raises(ConfigError) as err:
        check_renamed(config)
    assert err.value.problems == [f"{old} is no longer a config key: rename `{old}` to `{new}` (same entries)"]


def test_resources_evaluate_is_named_with_its_fix():
    config = _config()
    config["resources"]["evaluate"] = config["resources"]["light"]
    with pytest.raises(ConfigError, match=r"resources\.evaluate is no longer a config key: remove resources\.evaluate"):
        check_renamed(config)


def test_the_shipped_tiny_config_passes():
    check_renamed(TINY)
    check(_config(), REPO)


def test_every_problem_is_listed_at_once():
    config = _config()
    config["experiments"]["oneshot"]["model"] = "no_such_model"
    config["imagenet_transfers"]["imagenet_ticket_faster"]["classifier"] = "no_such_classifier"
    config["task_transfers"]["task_transfer"]["prune_percent"] = 50
    with pytest.raises(ConfigError) as err:
        check(config, REPO)
    assert err.value.problems == [
        "imagenet_transfers.imagenet_ticket_faster.classifier 'no_such_classifier' is not a key of `classifiers`",
        "experiments.oneshot.model 'no_such_model' is not a key of `models`",
        "task_transfers.task_transfer.prune_percent 50 is not in experiments.mask_rcnn.prune_percents: add it there "
        "(the direct ticket is the transferred one)",
        "task_transfers.task_transfer.prune_percent 50 is not in experiments.keypoint_rcnn.prune_percents: add it "
        "there (the direct ticket is the transferred one)",
    ]


def test_a_missing_model_config_file_is_named():
    config = _config()
    config["models"]["faster_rcnn_r18_c4"]["config"] = "config/models/no_such.py"
    with pytest.raises(ConfigError, match=r"models\.faster_rcnn_r18_c4\.config: .*no_such\.py does not exist"):
        check(config, REPO)


def test_a_mask_transfer_needs_a_one_shot_strategy():
    config = _config()
    config["imagenet_transfers"]["imagenet_mask_faster"]["strategy"] = "all_iterative"
    with pytest.raises(ConfigError, match="mode mask needs a one-shot strategy"):
        check(config, REPO)


def test_a_misspelt_cfg_options_key_names_the_nearest_one():
    config = _config()
    config["models"]["mask_rcnn_r18_fpn"]["cfg_options"] = {"train_cfg.max_iter": 5}
    with pytest.raises(ConfigError) as err:
        check(config, REPO)
    assert err.value.problems == [
        "models.mask_rcnn_r18_fpn.cfg_options: 'train_cfg.max_iter' is not a key of the model config; did you mean "
        "train_cfg.max_iters? (to set a new key, add it to the model config file)"]


def test_a_model_config_syntax_error_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("model = dict(\n    type='FasterRCNN',\n    backbone=dict(depth=18\n")
    config = _config()
    config["models"]["faster_rcnn_r18_c4"]["config"] = str(bad)
    with pytest.raises(ConfigError) as err:
        check(config, REPO)
    [problem] = err.value.problems
    assert problem.startswith(f"models.faster_rcnn_r18_c4.config: syntax error in {bad}, line ") and "fix the file" in problem


def test_rewind_iter_after_the_schedule_is_rejected():
    config = _config()
    config["models"]["mask_rcnn_r18_fpn"]["rewind_iter"] = 6  # tiny: train_cfg.max_iters 6 by cfg_options
    with pytest.raises(ConfigError, match=r"models\.mask_rcnn_r18_fpn\.rewind_iter 6 is not before the end of "
                                          r"training \(train_cfg\.max_iters 6 .*after cfg_options\)"):
        check(config, REPO)


def test_a_key_given_twice_names_both_lines(tmp_path):
    file = tmp_path / "twice.yaml"
    file.write_text("experiments:\n  a: {model: m}\n  b: {model: m}\n  a: {model: n}\n")
    with pytest.raises(ConfigError, match=rf"{file} line 4: key 'a' is given twice in one section \(first at line 2\)"):
        check_config_files([file])
    check_config_files([REPO / "config/config.yaml", REPO / "config/tiny.yaml"])


def test_zero_cores_is_rejected():
    with pytest.raises(ConfigError, match="--cores 0 runs no job"):
        check_cores(0)
    check_cores(None)
    check_cores(2)


def test_schema_errors_name_key_value_and_allowed_values_one_line_each():
    config = _config()
    config["strategies"]["global_oneshot"]["groups"] = ["backbone_bsae"]
    config["experiments"]["oneshot"]["seeds"] = "zero"
    with pytest.raises(ConfigError) as err:
        check_schema(config, REPO / "workflow/schemas/config.schema.yaml")
    assert err.value.problems == [
        "experiments.oneshot.seeds: 'zero' is not of type 'array' (the `experiments` keys: config/README.md)",
        "strategies.global_oneshot.groups.0: 'backbone_bsae' is not one of ['backbone_base', 'backbone_top', 'neck', "
        "'rpn', 'box_head', 'mask_head', 'keypoint_head', 'other'] (the `strategies` keys: config/README.md)",
    ]
    check_schema(_config(), REPO / "workflow/schemas/config.schema.yaml")


def test_a_model_config_path_typo_names_the_nearest_file():
    config = _config()
    config["models"]["faster_rcnn_r18_c4"]["config"] = "config/models/faster-rcnn_r18-c4_tiyn.py"
    with pytest.raises(ConfigError, match=r"faster-rcnn_r18-c4_tiyn\.py does not exist: did you mean "
                                          r".*config/models/faster-rcnn_r18-c4_tiny\.py\?"):
        check(config, REPO)


def test_a_results_dir_under_a_file_is_rejected(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match=r"results_dir .*file/results: .*file is not a writable folder"):
        check(_config(results_dir=str(tmp_path / "file/results")), REPO)


def test_the_schema_offers_exactly_the_registered_pruning_scopes():
    from lthsteps.masks.magnitude import SCOPES

    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    scope = schema["properties"]["strategies"]["additionalProperties"]["properties"]["scope"]
    assert scope["enum"] == list(SCOPES)


def test_a_task_transfer_from_the_initial_weights_moves_the_mask_only():
    config = _config()
    config["task_transfers"]["task_transfer"] |= {"start": "init", "values": True}
    with pytest.raises(ConfigError) as err:
        check(config, REPO)
    assert err.value.problems == [
        "task_transfers.task_transfer: `start: init` moves the mask onto the target's initial weights (the official "
        "release); the ticket's values belong to its rewind point: drop `values` or use `start: rewind`"]


def test_a_task_transfers_misspelt_cfg_options_key_is_named_per_model():
    config = _config()
    config["task_transfers"]["task_transfer"]["cfg_options"] = {"param_scheduler.0.ends": 50}
    with pytest.raises(ConfigError) as err:
        check(config, REPO)
    assert len(err.value.problems) == 2  # both models of the transfer
    assert err.value.problems[0].startswith(
        "task_transfers.task_transfer.cfg_options (keypoint_rcnn_r18_fpn): 'param_scheduler.0.ends' is not a key of "
        "the model config; did you mean param_scheduler.0.end?")
