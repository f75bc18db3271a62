# Lottery tickets (Algorithm 1 with late resetting): one dense run per (model, seed) gives the
# weights every round-1 mask is ranked on and the rewind point every round restarts from; round r
# ranks the weights of round r-1 under its mask. make_mask serves detectors and classifiers alike:
# both keep their dense run and rounds under one network folder (lthsteps.paths).


rule train_dense:
    input:
        unpack(pretrained_input),
        dataset=model_dataset,
        config=model_config,
    output:
        **trained(DENSE),
        rewind=f"{DENSE}/rewind.pth",
        snapshots=directory(SNAPSHOTS),
    log:
        log("train_dense", "{model}_seed{seed}"),
    benchmark:
        benchmark("train_dense", "{model}_seed{seed}")
    conda:
        ENV
    threads: TRAIN["cpus_per_task"]
    resources:
        **TRAIN,
    params:
        work_dir=f"{DENSE}/work",
        rewind_iter=lookup(dpath="models/{model}/rewind_iter", within=config),
        pretrained=pretrained_arg,
        snapshots=snapshot_args,
        options=cfg_options,
    shell:
        train_shell(
            "--config {input.config} --dataset {input.dataset} --seed {wildcards.seed}"
            " --work-dir {params.work_dir} --out {output.weights} --report {output.report}"
            " --rewind-iter {params.rewind_iter} --rewind-out {output.rewind} {params.snapshots}"
            " --threads {threads} {params.pretrained} {params.options}"
        ) + " > {log} 2>&1"


rule make_mask:
    input:
        unpack(mask_inputs),
    output:
        mask=f"{NETWORK_ROUND}/mask.npz",
        report=f"{NETWORK_ROUND}/mask.json",
    log:
        log("make_mask", "{network}/{strategy}_p{prune}_round{round}"),
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        args=mask_args,
    shell:
        "python -m lthsteps.masks prune --weights {input.weights} {params.args}"
        " --out {output.mask} --report {output.report} > {log} 2>&1"


rule train_round:
    input:
        dataset=model_dataset,
        config=model_config,
        init=f"{DENSE}/rewind.pth",
        mask=f"{ROUND}/mask.npz",
    output:
        **trained(ROUND),
    log:
        log("train_round", "{model}_seed{seed}_{strategy}_p{prune}_round{round}"),
    benchmark:
        benchmark("train_round", "{model}_seed{seed}_{strategy}_p{prune}_round{round}")
    conda:
        ENV
    threads: TRAIN["cpus_per_task"]
    resources:
        **TRAIN,
    params:
        work_dir=f"{ROUND}/work",
        start_iter=lambda wildcards: plan.round_start_iter(config, wildcards.model),
        options=cfg_options,
    shell:
        f"{TRAIN_TICKET} > {{log}} 2>&1"
