"""Shared test set-up.

Every plan any test makes, in this process or in a subprocess it starts (the
command line, the server, the worker), is checked against every constraint of
SPEC section 3 by ``planner.check.check_plan``: COMMUNE_CHECK_PLANS makes the
planner itself refuse a plan that fails the check.
"""

import os

os.environ["COMMUNE_CHECK_PLANS"] = "1"
