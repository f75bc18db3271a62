# Evaluation of any run folder (dense or a round) on its model's validation split, for every task
# its model has (bbox; segm with a mask head; keypoints with a keypoint head).


rule evaluate:
    input:
        weights=f"{R}/runs/{{run}}/weights.pth",
        dataset=lambda wildcards: dataset_descriptor(
            config["models"][run_model(wildcards)]["dataset"]
        ),
        config=lambda wildcards: model_config(run_model(wildcards)),
    output:
        metrics=f"{R}/runs/{{run}}/metrics.json",
        detections=directory(f"{R}/runs/{{run}}/detections"),
    log:
        f"{R}/logs/evaluate/{{run}}.log",
    benchmark:
        f"{R}/benchmarks/evaluate/{{run}}.tsv"
    wildcard_constraints:
        run=r"[^/]+/seed\d+/.+",
    conda:
        ENV
    threads: res("evaluate", "cpus_per_task")
    resources:
        gpu=res("evaluate", "gpu"),
        cpus_per_task=res("evaluate", "cpus_per_task"),
        mem_mb=res("evaluate", "mem_mb"),
        runtime=res("evaluate", "runtime"),
    params:
        options=lambda wildcards: cfg_options(run_model(wildcards)),
    shell:
        "python -m lthsteps.evaluate --config {input.config} --dataset {input.dataset} --weights {input.weights}"
        " --metrics {output.metrics} --detections {output.detections} --threads {threads}"
        " {params.options} > {log} 2>&1"
