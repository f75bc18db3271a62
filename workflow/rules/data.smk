# Datasets: the embedded generator, and preparation (validation; VOC -> COCO format) of any dataset.


rule generate_synthetic:
    output:
        directory(paths.synthetic_data(R)),
    log:
        log("generate_synthetic", "synthetic"),
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        args=" ".join(f"--{k.replace('_', '-')} {v}" for k, v in config.get("synthetic", {}).items()),
    shell:
        "python -m lthsteps.synthdata --out {output} {params.args} > {log} 2>&1"


rule prepare_dataset:
    input:
        prepare_inputs,
    output:
        paths.dataset_descriptor(R, "{dataset}"),
    log:
        log("prepare_dataset", "{dataset}"),
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        args=prepare_args,
    shell:
        "python -m lthsteps.datasets prepare {params.args} --out {output} > {log} 2>&1"
