# The paper's §4.3 ablations (config `ablations`, docs/ablations.md): Table 3, Fig 2b-2f and the controls.
# Derived strategies (Table 3's modules, Fig 2d's rounds, Fig 2e's scopes) train as ordinary rounds
# (make_mask, train_round); the other settings branch off the experiment's round: the ticket's mask
# from another rewind point (the dense run's snapshots), an early-bird mask, a random mask, or
# re-initialised weights, each trained like a round.


rule make_early_bird_mask:
    input:
        snapshots=SNAPSHOTS,
    output:
        mask=f"{ROUND}/branches/early_bird{{percent}}/mask.npz",
        report=f"{ROUND}/branches/early_bird{{percent}}/mask.json",
    log:
        log("make_early_bird_mask", "{model}_seed{seed}_{strategy}_p{prune}_round{round}_early_bird{percent}"),
    wildcard_constraints:
        percent=r"[0-9.]+",
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        weights=early_bird_snapshot,
        args=mask_args,
    shell:
        "python -m lthsteps.masks prune --weights {params.weights} {params.args}"
        " --out {output.mask} --report {output.report} > {log} 2>&1"


rule make_random_mask:
    input:
        ticket=f"{ROUND}/mask.npz",
        weights=f"{DENSE}/rewind.pth",
    output:
        mask=f"{ROUND}/branches/random_mask/mask.npz",
        report=f"{ROUND}/branches/random_mask/mask.json",
    log:
        log("make_random_mask", "{model}_seed{seed}_{strategy}_p{prune}_round{round}"),
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    shell:
        "python -m lthsteps.branches random-mask --ticket {input.ticket} --weights {input.weights}"
        " --seed {wildcards.seed} --out {output.mask} --report {output.report} > {log} 2>&1"


rule make_reinit:
    input:
        config=model_config,
        dataset=model_dataset,
        mask=f"{ROUND}/mask.npz",
    output:
        init=f"{ROUND}/branches/reinit/init.pth",
    log:
        log("make_reinit", "{model}_seed{seed}_{strategy}_p{prune}_round{round}"),
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        options=cfg_options,
    shell:
        "python -m lthsteps.branches reinit --config {input.config} --dataset {input.dataset} {params.options}"
        " --mask {input.mask}"
        " --seed {wildcards.seed} --out {output.init} > {log} 2>&1"


rule train_branch:
    input:
        unpack(branch_inputs),
        dataset=model_dataset,
        config=model_config,
    output:
        **trained(BRANCH),
    log:
        log("train_branch", "{model}_seed{seed}_{strategy}_p{prune}_round{round}_{branch}"),
    benchmark:
        benchmark("train_branch", "{model}_seed{seed}_{strategy}_p{prune}_round{round}_{branch}")
    conda:
        ENV
    threads: TRAIN["cpus_per_task"]
    resources:
        **TRAIN,
    params:
        work_dir=f"{BRANCH}/work",
        init=branch_init,
        start_iter=lambda wildcards: plan.branch_start_iter(config, wildcards.model, wildcards.branch),
        options=cfg_options,
    shell:
        train_shell(
            "--config {input.config} --dataset {input.dataset} --seed {wildcards.seed}"
            " --work-dir {params.work_dir} --init {params.init} --start-iter {params.start_iter} --mask {input.mask}"
            " --out {output.weights} --report {output.report} --threads {threads}"
            " {params.options}"
        ) + " > {log} 2>&1"


rule summarize_ablation:
    input:
        unpack(ablation_inputs),
    output:
        **summary_outputs("ablation", "../report/ablation.rst"),
    log:
        log("summarize_ablation", "{ablation}"),
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        setting=lookup(dpath="ablations/{ablation}/setting", within=config),
        paper=lookup(dpath="ablations/{ablation}/paper", within=config, default=""),
        runs=ablation_args,
        title=lambda wildcards: figure_args.study_title(config, wildcards.ablation),
    shell:
        "python -m lthsteps.ablations {params.setting} --name {params.title} --paper '{params.paper}' {params.runs}"
        " --csv {output.csv} --markdown {output.markdown} --figure {output.figure} > {log} 2>&1"
