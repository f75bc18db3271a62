# The paper's §4.4 analyses and Appendix C (config `analyses`, docs/analyses.md): Fig 4 (AP change by
# object size), Fig 5 (by category: training frequency, easy/hard), Figs 7-8 (TIDE error types) and
# Fig 9 (keypoint error types) of a direct-pruning experiment's dense runs against its tickets. The error
# analyses first write a file beside each run's metrics, from its detections and the val annotations.


rule tide_errors:
    input:
        detections=f"{RUN}/detections",
        dataset=model_dataset,
    output:
        paths.tide_errors(RUN, "{task}"),
    log:
        log("tide_errors", "{model}/seed{seed}/{run}/{task}"),
    wildcard_constraints:
        run=RUN_NAME,
        task="bbox|segm",
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        gt=val_annotations,
    shell:
        "python -m lthsteps.tide_errors --gt {params.gt} --detections {input.detections}/{wildcards.task}.json"
        " --mode {wildcards.task} --out {output} > {log} 2>&1"


rule keypoint_errors:
    input:
        detections=f"{RUN}/detections",
        dataset=model_dataset,
    output:
        errors=paths.keypoint_errors(RUN),
        pr=paths.keypoint_pr(RUN),
    log:
        log("keypoint_errors", "{model}/seed{seed}/{run}"),
    wildcard_constraints:
        run=RUN_NAME,
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        gt=val_annotations,
    shell:
        "python -m lthsteps.keypoint_errors --gt {params.gt} --detections {input.detections}/keypoints.json"
        " --out {output.errors} --pr-csv {output.pr} > {log} 2>&1"


rule summarize_analysis:
    input:
        unpack(analysis_inputs),
    output:
        **summary_outputs("analysis", "../report/analysis.rst"),
    log:
        log("summarize_analysis", "{analysis}"),
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        module=lambda wildcards: ANALYSIS_MODULES[config["analyses"][wildcards.analysis]["analysis"]],
        args=analysis_args,
    shell:
        "python -m {params.module} {params.args}"
        " --csv {output.csv} --markdown {output.markdown} --figure {output.figure} > {log} 2>&1"
