# Start-up check of every job's GPU request against the run's GPU limit and, on SLURM, against the
# cluster's partitions (lthsteps.resource_check): a bad profile fails before the first job is
# submitted, with the fix named. onstart runs once, in the main Snakemake process (jobs run with
# --no-hooks), after the DAG is built and before any job starts; dry-runs skip it.


def job_requests():
    """What the jobs of this run ask for, as their rules declare it (Snakemake caps job.resources)."""
    from lthsteps.resource_check import Request

    requests = set()
    for job in workflow.dag.needrun_jobs():
        declared = job.rule.resources.get("gpu")
        gpu = declared.value if declared is not None and not declared.is_evaluable() else job.resources.get("gpu")
        requests.add(Request(job.rule.name, int(gpu or 0), job.resources.get("slurm_partition")))
    return requests


onstart:
    from lthsteps.resource_check import check_requests

    limit = workflow.global_resources.get("gpu")
    check_requests(
        job_requests(),
        gpu_limit=None if limit is None else limit.value,
        on_slurm=workflow.executor_plugin.name == "slurm",
    )
