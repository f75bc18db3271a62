# Per experiment or ImageNet transfer: a table (CSV + Markdown) and a figure of metrics against
# sparsity; per comparison (e.g. ResNet-18 vs ResNet-50, the paper's Fig 3): the change of each
# experiment against its dense model.


rule summarize_experiment:
    input:
        metrics=lambda wildcards: [f"{d}/metrics.json" for _, _, d in plan.table_runs(config, wildcards.experiment)],
        reports=lambda wildcards: [f"{d}/train.json" for _, _, d in plan.table_runs(config, wildcards.experiment)],
    output:
        **summary_outputs("experiment", "../report/experiment.rst"),
    log:
        log("summarize_experiment", "{experiment}"),
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        runs=table_runs_args,
        paper=lambda wildcards: paper_entry(wildcards.experiment),
        # the figure's words (method, model, data) and the paper's points, from the config
        figure=lambda wildcards: figure_args.summary_args(
            config, wildcards.experiment
        ),
    shell:
        "python -m lthsteps.summary --experiment {wildcards.experiment} --paper '{params.paper}' {params.runs}"
        " {params.figure} --csv {output.csv} --markdown {output.markdown} --figure {output.figure} > {log} 2>&1"


rule compare_experiments:
    input:
        tables=lambda wildcards: [
            paths.table(R, name, "csv") for name in config["comparisons"][wildcards.comparison]["experiments"]
        ],
    output:
        **summary_outputs("comparison", "../report/comparison.rst"),
    log:
        log("compare_experiments", "{comparison}"),
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        # --table LABEL=CSV with LABEL in words, --title, the paper's points (lthsteps.figure_args)
        tables=lambda wildcards, input: figure_args.comparison_args(
            config, wildcards.comparison, input.tables
        ),
        paper=lookup(dpath="comparisons/{comparison}/paper", within=config, default=""),
        measure=lookup(dpath="comparisons/{comparison}/measure", within=config),
    shell:
        "python -m lthsteps.compare --name {wildcards.comparison} --paper '{params.paper}' {params.tables}"
        " --measure {params.measure}"
        " --csv {output.csv} --markdown {output.markdown} --figure {output.figure} > {log} 2>&1"
