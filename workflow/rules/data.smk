# Datasets: the embedded generator, and preparation (validation; VOC -> COCO format) of any dataset.


rule generate_synthetic:
    output:
        directory(f"{R}/data/synthetic"),
    params:
        args=lambda wildcards: " ".join(f"--{k.replace('_', '-')} {v}" for k, v in config["synthetic"].items()),
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
    shell:
        "python -m lthsteps.synthdata --out {output} {params.args} > {log} 2>&1"


def prepare_inputs(wildcards):
    return [f"{R}/data/synthetic"] if config["datasets"][wildcards.dataset].get("synthetic") else []


def prepare_args(wildcards):
    ds = config["datasets"][wildcards.dataset]
    root = f"{R}/data/synthetic/{ds['root']}" if ds.get("synthetic") else ds["root"]
    args = ["--name", wildcards.dataset, "--format", ds["format"], "--root", root,
            "--splits", "'" + json.dumps(ds["splits"]) + "'"]
    if ds.get("classes"):
        args += ["--classes", "'" + json.dumps(ds["classes"]) + "'"]
    elif ds.get("synthetic") and ds["format"] == "voc":
        args += ["--classes-from", f"{R}/data/synthetic/coco/annotations/instances_train.json"]
    if ds.get("voc_ap_mode"):
        args += ["--voc-ap-mode", ds["voc_ap_mode"]]
    return " ".join(args)


rule prepare_dataset:
    input:
        prepare_inputs,
    output:
        f"{R}/datasets/{{dataset}}/dataset.json",
    params:
        args=prepare_args,
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
    shell:
        "python -m lthsteps.datasets prepare {params.args} --out {output} > {log} 2>&1"
