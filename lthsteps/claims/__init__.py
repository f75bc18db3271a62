"""Every qualitative claim of the paper, checked on one run's result tables.

    python -m lthsteps.claims --config-json CONFIG.json --results RESULTS_DIR --noise POINTS \\
        --csv claims.csv --markdown claims.md

One small module per group of claims (as open_lth's registries): ``imagenet`` (§4.2, Appendix A),
``direct`` (§4.3 Fig 1/2a, §4.4 Fig 3), ``ablations`` (§4.3 Fig 2b-2f, Table 3), ``properties`` (§4.4
Figs 4-5), ``appendix`` (Appendices B-D). Each claim is a :class:`~lthsteps.claims.core.Claim` (id,
wording, paper item, ``check(config, results, noise) -> ClaimResult``) registered in
:data:`~lthsteps.claims.registry.CLAIMS` in the paper's order; its docstring quotes the paper and
gives what it reads and its verdict rule. The core (:mod:`lthsteps.claims.core`) is pure: it reads
the config mapping and ``RESULTS_DIR/tables/<entry name>.csv`` and writes nothing; the CLI writes the
CSV and Markdown. docs/claims.md lists every claim.
"""
from lthsteps.claims.core import (
    FAILS, HOLDS, NOISE, NOT_PRODUCED, VERDICTS, Claim, ClaimResult, ClaimsError, Results,
)
from lthsteps.claims.registry import BY_ID, CLAIMS
from lthsteps.claims.report import check_all, frame, markdown

__all__ = ["CLAIMS", "BY_ID", "Claim", "ClaimResult", "ClaimsError", "Results", "check_all", "frame", "markdown",
           "HOLDS", "FAILS", "NOISE", "NOT_PRODUCED", "VERDICTS"]
