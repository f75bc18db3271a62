# Task transfer (the paper's Appendix B, Table 5): each of two experiments' tickets at one prune
# percent goes into the other's model up to the box head, trains from the target's rewind point, and
# is evaluated; a table puts the transferred tickets next to the direct ones.


rule transfer_ticket:
    input:
        unpack(transfer_inputs),
    output:
        init=f"{R}/runs/{{model}}/seed{{seed}}/transfers/{{transfer}}/from_{{source}}/init.pth",
        mask=f"{R}/runs/{{model}}/seed{{seed}}/transfers/{{transfer}}/from_{{source}}/mask.npz",
        report=f"{R}/runs/{{model}}/seed{{seed}}/transfers/{{transfer}}/from_{{source}}/transfer.json",
    log:
        f"{R}/logs/transfer_ticket/{{model}}_seed{{seed}}_{{transfer}}_from_{{source}}.log",
    wildcard_constraints:
        transfer="|".join(map(re.escape, config.get("transfers", {}))) or "^$",
        source="|".join(map(re.escape, config["experiments"])),
    conda:
        ENV
    threads: 1
    resources:
        gpu=res("light", "gpu"),
        cpus_per_task=res("light", "cpus_per_task"),
        mem_mb=res("light", "mem_mb"),
        runtime=res("light", "runtime"),
    params:
        # Without `groups` in the config, lthsteps.transfer's default (up to the box head) applies.
        groups=lambda wildcards: (
            f"--groups {','.join(config['transfers'][wildcards.transfer]['groups'])}"
            if "groups" in config["transfers"][wildcards.transfer]
            else ""
        ),
    shell:
        "python -m lthsteps.transfer --source-weights {input.source_weights} --source-mask {input.source_mask}"
        " --target-weights {input.target_weights} {params.groups}"
        " --out-weights {output.init} --out-mask {output.mask} --report {output.report} > {log} 2>&1"


rule train_transfer:
    input:
        dataset=model_dataset,
        config=lambda wildcards: model_config(wildcards.model),
        init=f"{R}/runs/{{model}}/seed{{seed}}/transfers/{{transfer}}/from_{{source}}/init.pth",
        mask=f"{R}/runs/{{model}}/seed{{seed}}/transfers/{{transfer}}/from_{{source}}/mask.npz",
    output:
        weights=f"{R}/runs/{{model}}/seed{{seed}}/transfers/{{transfer}}/from_{{source}}/weights.pth",
        report=f"{R}/runs/{{model}}/seed{{seed}}/transfers/{{transfer}}/from_{{source}}/train.json",
        metrics=f"{R}/runs/{{model}}/seed{{seed}}/transfers/{{transfer}}/from_{{source}}/metrics.json",
        detections=directory(f"{R}/runs/{{model}}/seed{{seed}}/transfers/{{transfer}}/from_{{source}}/detections"),
    log:
        f"{R}/logs/train_transfer/{{model}}_seed{{seed}}_{{transfer}}_from_{{source}}.log",
    benchmark:
        f"{R}/benchmarks/train_transfer/{{model}}_seed{{seed}}_{{transfer}}_from_{{source}}.tsv"
    wildcard_constraints:
        transfer="|".join(map(re.escape, config.get("transfers", {}))) or "^$",
        source="|".join(map(re.escape, config["experiments"])),
    conda:
        ENV
    threads: res("train", "cpus_per_task")
    resources:
        gpu=res("train", "gpu"),
        cpus_per_task=res("train", "cpus_per_task"),
        mem_mb=res("train", "mem_mb"),
        runtime=res("train", "runtime"),
    params:
        work_dir=lambda wildcards: f"{transfer_dir(wildcards.model, wildcards.seed, wildcards.transfer, wildcards.source)}/work",
        start_iter=lambda wildcards: config["models"][wildcards.model]["rewind_iter"],
        options=lambda wildcards: cfg_options(wildcards.model),
    shell:
        TRAIN_TICKET


rule summarize_transfer:
    input:
        metrics=lambda wildcards: [
            f"{d}/metrics.json"
            for pair in transfer_table_runs(wildcards.transfer)
            for d in pair
        ],
        reports=lambda wildcards: [
            f"{run}/train.json" for _, run in transfer_table_runs(wildcards.transfer)
        ],
    output:
        csv=report_entry(
            f"{R}/tables/{{transfer}}.csv", "transfer", "../report/transfer.rst", "table (CSV)"
        ),
        markdown=report_entry(
            f"{R}/tables/{{transfer}}.md", "transfer", "../report/transfer.rst", "table (Markdown)"
        ),
    log:
        f"{R}/logs/summarize_transfer/{{transfer}}.log",
    wildcard_constraints:
        transfer="|".join(map(re.escape, config.get("transfers", {}))) or "^$",
    conda:
        ENV
    threads: 1
    resources:
        gpu=res("light", "gpu"),
        cpus_per_task=res("light", "cpus_per_task"),
        mem_mb=res("light", "mem_mb"),
        runtime=res("light", "runtime"),
    params:
        runs=lambda wildcards: " ".join(
            f"--run {source}:{run}" for source, run in transfer_table_runs(wildcards.transfer)
        ),
        paper=lambda wildcards: config["transfers"][wildcards.transfer].get("paper", ""),
    shell:
        "python -m lthsteps.transfer_table --name {wildcards.transfer} --paper '{params.paper}' {params.runs}"
        " --csv {output.csv} --markdown {output.markdown} > {log} 2>&1"
