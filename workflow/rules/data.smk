# Datasets: the embedded generator, and preparation (validation; VOC -> COCO format) of any dataset.


rule generate_synthetic:
    output:
        directory(f"{R}/data/synthetic"),
    log:
        f"{R}/logs/generate_synthetic.log",
    conda:
        ENV
    threads: 1
    resources:
        gpu=res("light", "gpu"),
        cpus_per_task=res("light", "cpus_per_task"),
        mem_mb=res("light", "mem_mb"),
        runtime=res("light", "runtime"),
    params:
        args=lambda wildcards: " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in config["synthetic"].items()
        ),
    shell:
        "python -m lthsteps.synthdata --out {output} {params.args} > {log} 2>&1"


rule prepare_dataset:
    input:
        prepare_inputs,
    output:
        f"{R}/datasets/{{dataset}}/dataset.json",
    log:
        f"{R}/logs/prepare_dataset/{{dataset}}.log",
    conda:
        ENV
    threads: 1
    resources:
        gpu=res("light", "gpu"),
        cpus_per_task=res("light", "cpus_per_task"),
        mem_mb=res("light", "mem_mb"),
        runtime=res("light", "runtime"),
    params:
        args=prepare_args,
    shell:
        "python -m lthsteps.datasets prepare {params.args} --out {output} > {log} 2>&1"
