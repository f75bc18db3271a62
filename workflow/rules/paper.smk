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
