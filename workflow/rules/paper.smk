# The paper side by side (docs/paper-tables.md): its Tables 1-5 in its own layout, assembled from the
# tables of the entries whose `paper` names them, beside its published numbers (lthsteps.published).


rule paper_table:
    input:
        unpack(paper_table_inputs),
    output:
        csv=paper_report_entry(paths.paper_table(R, "{table}", "csv"), "table (CSV)"),
        markdown=paper_report_entry(paths.paper_table(R, "{table}", "md"), "table (Markdown)"),
    log:
        log("paper_table", "{table}"),
    wildcard_constraints:
        table=one_of(plan.PAPER_TABLES),
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        sources=lambda wildcards, input: " ".join(f"--source {name}={path}" for name, path in input.items()),
        note=shlex.quote(PAPER_NOTE),
    shell:
        "python -m lthsteps.paper_tables {wildcards.table} {params.sources} --note {params.note}"
        " --csv {output.csv} --markdown {output.markdown} > {log} 2>&1"


rule run_config:
    output:
        paths.run_config(R),
    log:
        log("run_config", "config"),
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        config=json.dumps(config, sort_keys=True),
    shell:
        "printf '%s\\n' {params.config:q} > {output} 2> {log}"


rule claims:
    input:
        config=paths.run_config(R),
        tables=plan.summary_tables(config),
    output:
        csv=paper_report_entry(paths.claims(R, "csv"), "table (CSV)", "claims"),
        markdown=paper_report_entry(paths.claims(R, "md"), "table (Markdown)", "claims"),
    log:
        log("claims", "claims"),
    conda:
        ENV
    threads: 1
    resources:
        **LIGHT,
    params:
        results=lambda wildcards, input: Path(input.config).parent.parent,  # paths.run_config: <results>/paper/
        noise=lookup(dpath="claims/noise", within=config),
    shell:
        "python -m lthsteps.claims --config-json {input.config} --results {params.results} --noise {params.noise}"
        " --csv {output.csv} --markdown {output.markdown} > {log} 2>&1"
