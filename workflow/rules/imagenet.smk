# The "ImageNet" stage: a ResNet classifier per `classifiers` entry, trained on an ImageFolder
# dataset (the generated classification set by default) or imported from a weights file. Its dense
# weights initialise the backbone of every detector whose model names it (`pretrained`). ImageNet
# tickets are Algorithm 1 with late resetting on the classifier (masks by make_mask, prune.smk).


rule train_classifier:
    input:
        data=classifier_data,
    output:
        weights=f"{CLASSIFIER}/dense/weights.pth",
        rewind=f"{CLASSIFIER}/dense/rewind.pth",
        report=f"{CLASSIFIER}/dense/train.json",
    log:
        log("train_classifier", "{classifier}"),
    benchmark:
        benchmark("train_classifier", "{classifier}")
    conda:
        ENV
    threads: TRAIN["cpus_per_task"]
    resources:
        **TRAIN,
    params:
        data=classifier_data_folder,
        args=classifier_args,
        rewind_iter=lookup(dpath="classifiers/{classifier}/rewind_iter", within=config),
    shell:
        f"{GPU_GUARD}python -m lthsteps.classifier --data {{params.data}} {{params.args}} --threads {{threads}}"
        " --rewind-iter {params.rewind_iter} --rewind-out {output.rewind}"
        " --out {output.weights} --report {output.report} > {log} 2>&1"


rule train_classifier_round:
    input:
        data=classifier_data,
        init=f"{CLASSIFIER}/dense/rewind.pth",
        mask=f"{CLASSIFIER_ROUND}/mask.npz",
    output:
        weights=f"{CLASSIFIER_ROUND}/weights.pth",
        report=f"{CLASSIFIER_ROUND}/train.json",
    log:
        log("train_classifier_round", "{classifier}_{strategy}_p{prune}_round{round}"),
    benchmark:
        benchmark("train_classifier_round", "{classifier}_{strategy}_p{prune}_round{round}")
    conda:
        ENV
    threads: TRAIN["cpus_per_task"]
    resources:
        **TRAIN,
    params:
        data=classifier_data_folder,
        args=classifier_args,
        start_iter=lookup(dpath="classifiers/{classifier}/rewind_iter", within=config),
    shell:
        f"{GPU_GUARD}python -m lthsteps.classifier --data {{params.data}} {{params.args}} --threads {{threads}}"
        " --init {input.init} --start-iter {params.start_iter} --mask {input.mask}"
        " --out {output.weights} --report {output.report} > {log} 2>&1"


rule import_ticket:
    input:
        unpack(imported_ticket_files),
    output:
        weights=f"{IMPORTED_TICKET}/weights.pth",
        mask=f"{IMPORTED_TICKET}/mask.npz",
        report=f"{IMPORTED_TICKET}/mask.json",
    log:
        log("import_ticket", "{classifier}_p{prune}"),
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        mask=lambda wildcards, input: f"--mask {input.mask}" if "mask" in input.keys() else "",
    shell:
        "python -m lthsteps.import_ticket --weights {input.weights} {params.mask} --out-weights {output.weights}"
        " --out-mask {output.mask} --report {output.report} > {log} 2>&1"


# ImageNet tickets in detectors (§4.2 ticket transfer; Appendix A mask transfer): the classifier's
# mask under the detector's names, then the whole detector trained from the classifier's weights
# with that mask fixed.


rule map_imagenet_mask:
    input:
        mask=lambda wildcards: imagenet_source(wildcards)["classifier_mask"],
        config=model_config,
    output:
        mask=f"{IMAGENET_TRANSFER}/mask.npz",
        report=f"{IMAGENET_TRANSFER}/mask.json",
    log:
        log("map_imagenet_mask", "{model}_seed{seed}_{imagenet_transfer}_p{prune}"),
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    shell:
        "python -m lthsteps.backbone mask --mask {input.mask} --config {input.config}"
        " --out {output.mask} --report {output.report} > {log} 2>&1"


rule train_imagenet_transfer:
    input:
        dataset=model_dataset,
        config=model_config,
        pretrained=lambda wildcards: imagenet_source(wildcards)["pretrained"],
        mask=f"{IMAGENET_TRANSFER}/mask.npz",
    output:
        **trained(IMAGENET_TRANSFER),
    log:
        log("train_imagenet_transfer", "{model}_seed{seed}_{imagenet_transfer}_p{prune}"),
    benchmark:
        benchmark("train_imagenet_transfer", "{model}_seed{seed}_{imagenet_transfer}_p{prune}")
    conda:
        ENV
    threads: TRAIN["cpus_per_task"]
    resources:
        **TRAIN,
    params:
        work_dir=f"{IMAGENET_TRANSFER}/work",
        options=cfg_options,
    shell:
        train_shell(
            "--config {input.config} --dataset {input.dataset} --seed {wildcards.seed}"
            " --work-dir {params.work_dir} --pretrained {input.pretrained} --mask {input.mask}"
            " --out {output.weights} --report {output.report} --threads {threads} {params.options}"
        ) + " > {log} 2>&1"
