# Task transfer (the paper's Appendix B, Table 5): each of two experiments' tickets at one prune
# percent goes into the other's model up to the box head (its mask on the target's rewind weights,
# or with `values` the ticket's values too), trains from the target's rewind point (`start: init`:
# its mask on the target's initial weights, the whole schedule, as the official release), and is
# evaluated; a table puts the transferred tickets next to the direct ones.


rule task_transfer:
    input:
        unpack(task_transfer_inputs),
    output:
        init=f"{TASK_TRANSFER}/init.pth",
        mask=f"{TASK_TRANSFER}/mask.npz",
        report=f"{TASK_TRANSFER}/transfer.json",
    log:
        log("task_transfer", "{model}_seed{seed}_{task_transfer}_from_{source}"),
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        args=task_transfer_args,
    shell:
        "python -m lthsteps.task_transfer --source-mask {input.source_mask} {params.args}"
        " --out-weights {output.init} --out-mask {output.mask} --report {output.report} > {log} 2>&1"


rule train_task_transfer:
    input:
        dataset=model_dataset,
        config=model_config,
        init=f"{TASK_TRANSFER}/init.pth",
        mask=f"{TASK_TRANSFER}/mask.npz",
    output:
        **trained(TASK_TRANSFER),
    log:
        log("train_task_transfer", "{model}_seed{seed}_{task_transfer}_from_{source}"),
    benchmark:
        benchmark("train_task_transfer", "{model}_seed{seed}_{task_transfer}_from_{source}")
    conda:
        ENV
    threads: TRAIN["cpus_per_task"]
    resources:
        **TRAIN,
    params:
        work_dir=f"{TASK_TRANSFER}/work",
        start_iter=lambda wildcards: plan.task_transfer_start_iter(config, wildcards.task_transfer, wildcards.model),
        options=task_transfer_cfg_options,
    shell:
        f"{TRAIN_TICKET} > {{log}} 2>&1"


rule summarize_task_transfer:
    input:
        metrics=lambda wildcards: [
            f"{folder}/metrics.json"
            for pair in plan.task_transfer_table_runs(config, wildcards.task_transfer)
            for folder in pair
        ],
        reports=lambda wildcards: [
            f"{run}/train.json" for _, run in plan.task_transfer_table_runs(config, wildcards.task_transfer)
        ],
    output:
        **summary_outputs("task_transfer", "../report/task_transfer.rst", figure=False),
    log:
        log("summarize_task_transfer", "{task_transfer}"),
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        runs=lambda wildcards: " ".join(
            f"--run {source}:{run}" for source, run in plan.task_transfer_table_runs(config, wildcards.task_transfer)
        ),
        paper=lookup(dpath="task_transfers/{task_transfer}/paper", within=config, default=""),
    shell:
        "python -m lthsteps.task_transfer_table --name {wildcards.task_transfer} --paper '{params.paper}' {params.runs}"
        " --csv {output.csv} --markdown {output.markdown} > {log} 2>&1"
