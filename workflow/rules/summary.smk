# Per experiment: a table (CSV + Markdown) and a figure of metrics against sparsity.


rule summarize_experiment:
    input:
        metrics=lambda wildcards: [
            f"{d}/metrics.json" for d in experiment_runs(wildcards.experiment)
        ],
        reports=lambda wildcards: [
            f"{d}/train.json" for d in experiment_runs(wildcards.experiment)
        ],
    output:
        csv=f"{R}/tables/{{experiment}}.csv",
        markdown=f"{R}/tables/{{experiment}}.md",
        figure=report(
            f"{R}/figures/{{experiment}}.png",
            caption="../report/experiment.rst",
            category="Figures",
        ),
    log:
        f"{R}/logs/summarize/{{experiment}}.log",
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
        paper=lambda wildcards: config["experiments"][wildcards.experiment].get(
            "paper", ""
        ),
    shell:
        "python -m lthsteps.summary --experiment {wildcards.experiment} --paper '{params.paper}' {params.runs}"
        " --csv {output.csv} --markdown {output.markdown} --figure {output.figure} > {log} 2>&1"
