# Lottery tickets (Algorithm 1 with late resetting): one dense run per (model, seed) gives the
# weights every round-1 mask is ranked on and the rewind point every round restarts from; round r
# ranks the weights of round r-1 under its mask.


rule train_dense:
    input:
        unpack(pretrained_input),
        dataset=model_dataset,
        config=lambda wildcards: model_config(wildcards.model),
    output:
        weights=f"{R}/runs/{{model}}/seed{{seed}}/dense/weights.pth",
        rewind=f"{R}/runs/{{model}}/seed{{seed}}/dense/rewind.pth",
        report=f"{R}/runs/{{model}}/seed{{seed}}/dense/train.json",
        metrics=f"{R}/runs/{{model}}/seed{{seed}}/dense/metrics.json",
        detections=directory(f"{R}/runs/{{model}}/seed{{seed}}/dense/detections"),
    log:
        f"{R}/logs/train_dense/{{model}}_seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/train_dense/{{model}}_seed{{seed}}.tsv"
    conda:
        ENV
    threads: res("train", "cpus_per_task")
    resources:
        gpu=res("train", "gpu"),
        cpus_per_task=res("train", "cpus_per_task"),
        mem_mb=res("train", "mem_mb"),
        runtime=res("train", "runtime"),
    params:
        work_dir=lambda wildcards: f"{dense_dir(wildcards.model, wildcards.seed)}/work",
        rewind_iter=lambda wildcards: config["models"][wildcards.model]["rewind_iter"],
        pretrained=pretrained_arg,
        options=lambda wildcards: cfg_options(wildcards.model),
    shell:
        train_shell(
            "--config {input.config} --dataset {input.dataset} --seed {wildcards.seed}"
            " --work-dir {params.work_dir} --out {output.weights} --report {output.report}"
            " --rewind-iter {params.rewind_iter} --rewind-out {output.rewind} --threads {threads}"
            " {params.pretrained} {params.options}"
        )


rule make_mask:
    input:
        unpack(mask_inputs),
    output:
        mask=f"{R}/runs/{{model}}/seed{{seed}}/{{strategy}}/p{{prune}}/round{{round}}/mask.npz",
        report=f"{R}/runs/{{model}}/seed{{seed}}/{{strategy}}/p{{prune}}/round{{round}}/mask.json",
    log:
        f"{R}/logs/make_mask/{{model}}_seed{{seed}}_{{strategy}}_p{{prune}}_round{{round}}.log",
    conda:
        ENV
    threads: 1
    resources:
        gpu=res("light", "gpu"),
        cpus_per_task=res("light", "cpus_per_task"),
        mem_mb=res("light", "mem_mb"),
        runtime=res("light", "runtime"),
    params:
        args=mask_args,
    shell:
        "python -m lthsteps.masks prune --weights {input.weights} {params.args}"
        " --out {output.mask} --report {output.report} > {log} 2>&1"


rule train_round:
    input:
        dataset=model_dataset,
        config=lambda wildcards: model_config(wildcards.model),
        init=lambda wildcards: f"{dense_dir(wildcards.model, wildcards.seed)}/rewind.pth",
        mask=f"{R}/runs/{{model}}/seed{{seed}}/{{strategy}}/p{{prune}}/round{{round}}/mask.npz",
    output:
        weights=f"{R}/runs/{{model}}/seed{{seed}}/{{strategy}}/p{{prune}}/round{{round}}/weights.pth",
        report=f"{R}/runs/{{model}}/seed{{seed}}/{{strategy}}/p{{prune}}/round{{round}}/train.json",
        metrics=f"{R}/runs/{{model}}/seed{{seed}}/{{strategy}}/p{{prune}}/round{{round}}/metrics.json",
        detections=directory(f"{R}/runs/{{model}}/seed{{seed}}/{{strategy}}/p{{prune}}/round{{round}}/detections"),
    log:
        f"{R}/logs/train_round/{{model}}_seed{{seed}}_{{strategy}}_p{{prune}}_round{{round}}.log",
    benchmark:
        f"{R}/benchmarks/train_round/{{model}}_seed{{seed}}_{{strategy}}_p{{prune}}_round{{round}}.tsv"
    conda:
        ENV
    threads: res("train", "cpus_per_task")
    resources:
        gpu=res("train", "gpu"),
        cpus_per_task=res("train", "cpus_per_task"),
        mem_mb=res("train", "mem_mb"),
        runtime=res("train", "runtime"),
    params:
        work_dir=lambda wildcards: round_work_dir(wildcards),
        start_iter=lambda wildcards: config["models"][wildcards.model]["rewind_iter"],
        options=lambda wildcards: cfg_options(wildcards.model),
    shell:
        TRAIN_TICKET
