# Per experiment: a table (CSV + Markdown) and a figure of metrics against sparsity; per comparison
# (e.g. ResNet-18 vs ResNet-50, the paper's Fig 3): the change of each experiment against its dense model.


rule summarize_experiment:
    input:
        metrics=lambda wildcards: [
            f"{d}/metrics.json" for _, _, d in table_runs(wildcards.experiment)
        ],
        reports=lambda wildcards: [
            f"{d}/train.json" for _, _, d in table_runs(wildcards.experiment)
        ],
    output:
        csv=report_entry(
            f"{R}/tables/{{experiment}}.csv", "experiment", "../report/experiment.rst", "table (CSV)"
        ),
        markdown=report_entry(
            f"{R}/tables/{{experiment}}.md", "experiment", "../report/experiment.rst", "table (Markdown)"
        ),
        figure=report_entry(
            f"{R}/figures/{{experiment}}.png", "experiment", "../report/experiment.rst", "figure"
        ),
    log:
        f"{R}/logs/summarize/{{experiment}}.log",
    wildcard_constraints:
        experiment="|".join(map(re.escape, [*config["experiments"], *config["ticket_transfers"]])),
    conda:
        ENV
    threads: 1
    resources:
        gpu=res("light", "gpu"),
        cpus_per_task=res("light", "cpus_per_task"),
        mem_mb=res("light", "mem_mb"),
        runtime=res("light", "runtime"),
    params:
        runs=summary_runs,
        paper=lambda wildcards: (
            config["experiments"].get(wildcards.experiment)
            or config["ticket_transfers"][wildcards.experiment]
        ).get("paper", ""),
    shell:
        "python -m lthsteps.summary --experiment {wildcards.experiment} --paper '{params.paper}' {params.runs}"
        " --csv {output.csv} --markdown {output.markdown} --figure {output.figure} > {log} 2>&1"


rule compare_experiments:
    input:
        tables=lambda wildcards: [
            f"{R}/tables/{exp}.csv"
            for exp in config["comparisons"][wildcards.comparison]["experiments"]
        ],
    output:
        csv=report_entry(
            f"{R}/tables/{{comparison}}.csv", "comparison", "../report/comparison.rst", "table (CSV)"
        ),
        markdown=report_entry(
            f"{R}/tables/{{comparison}}.md", "comparison", "../report/comparison.rst", "table (Markdown)"
        ),
        figure=report_entry(
            f"{R}/figures/{{comparison}}.png", "comparison", "../report/comparison.rst", "figure"
        ),
    log:
        f"{R}/logs/compare/{{comparison}}.log",
    wildcard_constraints:
        comparison="|".join(map(re.escape, config.get("comparisons", {}))) or "^$",
    conda:
        ENV
    threads: 1
    resources:
        gpu=res("light", "gpu"),
        cpus_per_task=res("light", "cpus_per_task"),
        mem_mb=res("light", "mem_mb"),
        runtime=res("light", "runtime"),
    params:
        tables=lambda wildcards, input: " ".join(
            f"--table {exp}={path}"
            for exp, path in zip(
                config["comparisons"][wildcards.comparison]["experiments"], input.tables
            )
        ),
        paper=lambda wildcards: config["comparisons"][wildcards.comparison].get(
            "paper", ""
        ),
        measure=lambda wildcards: config["comparisons"][wildcards.comparison]["measure"],
    shell:
        "python -m lthsteps.compare --name {wildcards.comparison} --paper '{params.paper}' {params.tables}"
        " --measure {params.measure}"
        " --csv {output.csv} --markdown {output.markdown} --figure {output.figure} > {log} 2>&1"
