"""A throwaway single-node SLURM on localhost for tests: munged, slurmctld and slurmd in the
foreground as child processes (stopped by PID), state and logs in a temp folder, two fake GPUs.

Clients find the cluster through ``SLURM_CONF``, except the ``srun`` that the SLURM executor
plugin starts inside each job: the jobstep plugin strips every ``SLURM_*`` variable from its
environment. So slurmd runs "configless" (fetching its config from slurmctld), which makes it
publish the config at ``/run/slurm/conf/slurm.conf``, where SLURM clients look next. munged uses
its default socket: configless slurmd has to reach it before it has a config that could name another.
Both are machine-wide, so one such cluster runs at a time: ``start()`` waits for a lock file.
"""
from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "sinfo", "scancel", "srun", "munge", "unmunge")
SBIN = os.pathsep.join(["/usr/sbin", "/usr/local/sbin", os.environ.get("PATH", "")])
PUBLISHED_CONFIG = Path("/run/slurm/conf")  # where configless slurmd links its cached config
SYSTEM_CONFIG = Path("/etc/slurm/slurm.conf")  # clients prefer it to PUBLISHED_CONFIG
MUNGE_SOCKET_DIR = Path("/run/munge")
LOCK = Path("/tmp/lthsteps-localhost-slurm.lock")
FAKE_GPUS = 2
CLUSTER_NAME = "lthtest"


def missing_binaries() -> list[str]:
    return [name for name in DAEMONS + CLIENTS if shutil.which(name, path=SBIN) is None]


def slurm_version() -> str:
    return subprocess.run([shutil.which("slurmd", path=SBIN), "-V"], capture_output=True, text=True).stdout.strip()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def _memory_mb() -> int:
    kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal:"))
    return kib // 1024 * 8 // 10  # below the real size, or slurmd reports the node invalid


def _kill_leftover_job_processes() -> None:
    """Kill what a cancelled job step left behind: with proctrack/linuxproc, a process whose parent
    died is re-parented to init and no longer tracked (seen: a `snakemake --mode remote` waiting
    for files after the test had ended). They are recognised by this cluster's name, which srun
    puts into every job step's environment."""
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"SLURM_CLUSTER_NAME={CLUSTER_NAME}".encode() in environ.read_bytes().split(b"\0"):
                os.kill(int(environ.parent.name), signal.SIGKILL)
        except (OSError, ValueError):  # gone meanwhile, or not ours to read
            continue


class LocalSlurm:
    """``start()`` the daemons, ``stop()`` them (every job cancelled first); ``env`` for clients."""

    def __init__(self, root: Path):
        self.root = root
        self.host = socket.gethostname().split(".")[0]
        self.ctld_port = _free_port()
        self.conf = root / "slurm.conf"
        self.env = os.environ | {"SLURM_CONF": str(self.conf), "PATH": SBIN}
        self.daemons: list[subprocess.Popen] = []
        self.lock = None

    def start(self) -> None:
        self.lock = open(LOCK, "w")  # noqa: SIM115 - held until stop()
        fcntl.flock(self.lock, fcntl.LOCK_EX)  # another test session's cluster: wait until it is stopped
        if SYSTEM_CONFIG.exists():
            raise RuntimeError(f"{SYSTEM_CONFIG} exists: job steps would use that cluster's config instead of "
                               "this test cluster's (the jobstep plugin drops SLURM_CONF); run the test on a "
                               "machine without it")
        self._write_config()
        if not self._munge_works():  # reuse a munged already serving the default socket
            MUNGE_SOCKET_DIR.mkdir(parents=True, exist_ok=True)
            key = self.root / "munge.key"
            key.write_bytes(os.urandom(128))
            key.chmod(0o600)
            self._spawn("munged", "--foreground", "--force", f"--key-file={key}",
                        f"--log-file={self.root / 'munged.log'}", f"--pid-file={self.root / 'munged.pid'}",
                        f"--seed-file={self.root / 'munged.seed'}")
            self._wait(self._munge_works, "munged to answer")
        self._spawn("slurmctld", "-D")
        self._wait(lambda: self._run("sinfo").returncode == 0, "slurmctld to answer")
        slurmd_env = {k: v for k, v in self.env.items() if k != "SLURM_CONF"}  # configless: ask slurmctld
        self._spawn("slurmd", "-D", "--conf-server", f"{self.host}:{self.ctld_port}", env=slurmd_env)
        self._wait(lambda: self._run("sinfo", "--noheader", "--format=%T").stdout.strip() == "idle",
                   "the node to be idle")

    def stop(self) -> None:
        """Cancel every job, then end the daemons this object started, newest first."""
        if self.daemons and self.daemons[-1].poll() is None:
            self._run("scancel", "--user", pwd.getpwuid(os.getuid()).pw_name)
            self._wait(lambda: not self._run("squeue", "--noheader").stdout.strip(), "cancelled jobs to end",
                       fail=False)
        for daemon in reversed(self.daemons):
            daemon.terminate()
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        _kill_leftover_job_processes()
        if PUBLISHED_CONFIG.is_symlink() and str(self.root) in os.readlink(PUBLISHED_CONFIG):
            PUBLISHED_CONFIG.unlink()
        if self.lock is not None:
            self.lock.close()  # releases the lock

    def squeue(self) -> list[str]:
        """Comment (Snakemake names the rule there) and job id of every queued or running job."""
        return self._run("squeue", "--noheader", "--format=%k %i").stdout.split("\n")

    def _write_config(self) -> None:
        user = pwd.getpwuid(os.getuid()).pw_name
        (self.root / "state").mkdir()
        (self.root / "spool").mkdir()
        gpu_files = [self.root / f"gpu{i}" for i in range(FAKE_GPUS)]  # SLURM only hands out their names
        for gpu in gpu_files:
            gpu.touch()
        (self.root / "gres.conf").write_text(f"NodeName={self.host} Name=gpu File={self.root}/gpu[0-{FAKE_GPUS - 1}]\n")
        self.conf.write_text("\n".join([
            f"ClusterName={CLUSTER_NAME}",
            f"SlurmctldHost={self.host}",
            f"SlurmctldPort={self.ctld_port}",
            f"SlurmdPort={_free_port()}",
            "SlurmctldParameters=enable_configless",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            f"SlurmUser={user}",
            f"SlurmdUser={user}",
            f"StateSaveLocation={self.root / 'state'}",
            f"SlurmdSpoolDir={self.root / 'spool'}",
            f"SlurmctldPidFile={self.root / 'slurmctld.pid'}",
            f"SlurmdPidFile={self.root / 'slurmd.pid'}",
            f"SlurmctldLogFile={self.root / 'slurmctld.log'}",
            f"SlurmdLogFile={self.root / 'slurmd.log'}",
            "SchedulerType=sched/backfill",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "AccountingStorageType=accounting_storage/none",  # no slurmdbd: status comes from squeue
            "JobCompType=jobcomp/none",
            "GresTypes=gpu",
            "ReturnToService=2",
            f"NodeName={self.host} CPUs={os.cpu_count()} RealMemory={_memory_mb()} Gres=gpu:{FAKE_GPUS} State=UNKNOWN",
            "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        ]) + "\n")

    def _spawn(self, daemon: str, *args: str, env: dict | None = None) -> None:
        log = open(self.root / f"{daemon}.out", "w")  # noqa: SIM115 - the daemon holds it until stop()
        self.daemons.append(subprocess.Popen([shutil.which(daemon, path=SBIN), *args], env=env or self.env,
                                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        return subprocess.run(command, env=self.env, capture_output=True, text=True)

    def _munge_works(self) -> bool:
        encoded = self._run("munge", "--no-input")
        return encoded.returncode == 0 and subprocess.run(
            ["unmunge"], input=encoded.stdout, env=self.env, capture_output=True, text=True).returncode == 0

    def _wait(self, condition, what: str, timeout: float = 60, fail: bool = True) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            exited = [d.args[0] for d in self.daemons if d.poll() is not None]
            if exited or time.monotonic() > deadline:
                if not fail:
                    return
                logs = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(self.root.glob("*.log")))
                why = f"exited: {', '.join(exited)}" if exited else "timed out"
                raise RuntimeError(f"waiting for {what}: {why}\n{logs}")
            time.sleep(0.2)
