# The "ImageNet" stage: a ResNet classifier per `classifiers` entry, trained on an ImageFolder
# dataset (the generated classification set by default) or imported from a weights file. Its dense
# weights initialise the backbone of every detector whose model names it (`pretrained`).


rule train_classifier:
    input:
        data=classifier_data,
    output:
        weights=f"{R}/classifiers/{{classifier}}/dense/weights.pth",
        rewind=f"{R}/classifiers/{{classifier}}/dense/rewind.pth",
        report=f"{R}/classifiers/{{classifier}}/dense/train.json",
    log:
        f"{R}/logs/train_classifier/{{classifier}}.log",
    benchmark:
        f"{R}/benchmarks/train_classifier/{{classifier}}.tsv"
    conda:
        ENV
    threads: res("train", "cpus_per_task")
    resources:
        gpu=res("train", "gpu"),
        cpus_per_task=res("train", "cpus_per_task"),
        mem_mb=res("train", "mem_mb"),
        runtime=res("train", "runtime"),
    params:
        data=lambda wildcards: classifier_data_folder(wildcards.classifier),
        args=classifier_args,
        rewind_iter=lambda wildcards: config["classifiers"][wildcards.classifier]["rewind_iter"],
    shell:
        "python -m lthsteps.classifier --data {params.data} {params.args} --threads {threads}"
        " --rewind-iter {params.rewind_iter} --rewind-out {output.rewind}"
        " --out {output.weights} --report {output.report} > {log} 2>&1"


# ImageNet tickets (Algorithm 1 of the paper with late resetting, on the classifier): round r ranks
# round r-1's weights (round 1: the dense weights) and retrains from the rewind point.


rule make_classifier_mask:
    input:
        unpack(classifier_mask_inputs),
    output:
        mask=f"{R}/classifiers/{{classifier}}/{{strategy}}/p{{prune}}/round{{round}}/mask.npz",
        report=f"{R}/classifiers/{{classifier}}/{{strategy}}/p{{prune}}/round{{round}}/mask.json",
    log:
        f"{R}/logs/make_classifier_mask/{{classifier}}_{{strategy}}_p{{prune}}_round{{round}}.log",
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


rule train_classifier_round:
    input:
        data=classifier_data,
        init=f"{R}/classifiers/{{classifier}}/dense/rewind.pth",
        mask=f"{R}/classifiers/{{classifier}}/{{strategy}}/p{{prune}}/round{{round}}/mask.npz",
    output:
        weights=f"{R}/classifiers/{{classifier}}/{{strategy}}/p{{prune}}/round{{round}}/weights.pth",
        report=f"{R}/classifiers/{{classifier}}/{{strategy}}/p{{prune}}/round{{round}}/train.json",
    log:
        f"{R}/logs/train_classifier_round/{{classifier}}_{{strategy}}_p{{prune}}_round{{round}}.log",
    benchmark:
        f"{R}/benchmarks/train_classifier_round/{{classifier}}_{{strategy}}_p{{prune}}_round{{round}}.tsv"
    conda:
        ENV
    threads: res("train", "cpus_per_task")
    resources:
        gpu=res("train", "gpu"),
        cpus_per_task=res("train", "cpus_per_task"),
        mem_mb=res("train", "mem_mb"),
        runtime=res("train", "runtime"),
    params:
        data=lambda wildcards: classifier_data_folder(wildcards.classifier),
        args=classifier_args,
        start_iter=lambda wildcards: config["classifiers"][wildcards.classifier]["rewind_iter"],
    shell:
        "python -m lthsteps.classifier --data {params.data} {params.args} --threads {threads}"
        " --init {input.init} --start-iter {params.start_iter} --mask {input.mask}"
        " --out {output.weights} --report {output.report} > {log} 2>&1"


# ImageNet tickets in detectors (§4.2 ticket transfer; Appendix A mask transfer): the classifier's
# mask under the detector's names, then the whole detector trained from the classifier's weights
# with that mask fixed.


rule map_imagenet_mask:
    input:
        mask=lambda wildcards: imagenet_ticket_source(wildcards.transfer, wildcards.prune)[1],
        config=lambda wildcards: model_config(config["ticket_transfers"][wildcards.transfer]["model"]),
    output:
        mask=f"{R}/runs/{{model}}/seed{{seed}}/imagenet/{{transfer}}/p{{prune}}/mask.npz",
        report=f"{R}/runs/{{model}}/seed{{seed}}/imagenet/{{transfer}}/p{{prune}}/mask.json",
    log:
        f"{R}/logs/map_imagenet_mask/{{model}}_seed{{seed}}_{{transfer}}_p{{prune}}.log",
    wildcard_constraints:
        transfer="|".join(map(re.escape, config["ticket_transfers"])) or "^$",
    conda:
        ENV
    threads: 1
    resources:
        gpu=res("light", "gpu"),
        cpus_per_task=res("light", "cpus_per_task"),
        mem_mb=res("light", "mem_mb"),
        runtime=res("light", "runtime"),
    shell:
        "python -m lthsteps.backbone mask --mask {input.mask} --config {input.config}"
        " --out {output.mask} --report {output.report} > {log} 2>&1"


rule train_imagenet_ticket:
    input:
        dataset=model_dataset,
        config=lambda wildcards: model_config(wildcards.model),
        pretrained=lambda wildcards: imagenet_ticket_source(wildcards.transfer, wildcards.prune)[0],
        mask=f"{R}/runs/{{model}}/seed{{seed}}/imagenet/{{transfer}}/p{{prune}}/mask.npz",
    output:
        weights=f"{R}/runs/{{model}}/seed{{seed}}/imagenet/{{transfer}}/p{{prune}}/weights.pth",
        report=f"{R}/runs/{{model}}/seed{{seed}}/imagenet/{{transfer}}/p{{prune}}/train.json",
        metrics=f"{R}/runs/{{model}}/seed{{seed}}/imagenet/{{transfer}}/p{{prune}}/metrics.json",
        detections=directory(f"{R}/runs/{{model}}/seed{{seed}}/imagenet/{{transfer}}/p{{prune}}/detections"),
    log:
        f"{R}/logs/train_imagenet_ticket/{{model}}_seed{{seed}}_{{transfer}}_p{{prune}}.log",
    benchmark:
        f"{R}/benchmarks/train_imagenet_ticket/{{model}}_seed{{seed}}_{{transfer}}_p{{prune}}.tsv"
    wildcard_constraints:
        transfer="|".join(map(re.escape, config["ticket_transfers"])) or "^$",
    conda:
        ENV
    threads: res("train", "cpus_per_task")
    resources:
        gpu=res("train", "gpu"),
        cpus_per_task=res("train", "cpus_per_task"),
        mem_mb=res("train", "mem_mb"),
        runtime=res("train", "runtime"),
    params:
        work_dir=lambda wildcards: f"{imagenet_ticket_dir(wildcards.transfer, wildcards.prune, wildcards.seed)}/work",
        options=lambda wildcards: cfg_options(wildcards.model),
    shell:
        train_shell(
            "--config {input.config} --dataset {input.dataset} --seed {wildcards.seed}"
            " --work-dir {params.work_dir} --pretrained {input.pretrained} --mask {input.mask}"
            " --out {output.weights} --report {output.report} --threads {threads} {params.options}"
        )


rule import_ticket:
    input:
        unpack(imported_ticket_files),
    output:
        weights=f"{R}/classifiers/{{classifier}}/imported/p{{prune}}/weights.pth",
        mask=f"{R}/classifiers/{{classifier}}/imported/p{{prune}}/mask.npz",
        report=f"{R}/classifiers/{{classifier}}/imported/p{{prune}}/mask.json",
    log:
        f"{R}/logs/import_ticket/{{classifier}}_p{{prune}}.log",
    conda:
        ENV
    threads: 1
    resources:
        gpu=res("light", "gpu"),
        cpus_per_task=res("light", "cpus_per_task"),
        mem_mb=res("light", "mem_mb"),
        runtime=res("light", "runtime"),
    params:
        mask=lambda wildcards, input: f"--mask {input.mask}" if "mask" in input.keys() else "",
    shell:
        "python -m lthsteps.tickets --weights {input.weights} {params.mask} --out-weights {output.weights}"
        " --out-mask {output.mask} --report {output.report} > {log} 2>&1"
