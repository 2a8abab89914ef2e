"""core/v1 types, one module per resource area; every public name is re-exported here."""

from master.api.core.common import *  # noqa: F403
from master.api.core.config import *  # noqa: F403
from master.api.core.endpoints import *  # noqa: F403
from master.api.core.event import *  # noqa: F403
from master.api.core.namespace import *  # noqa: F403
from master.api.core.node import *  # noqa: F403
from master.api.core.pod import *  # noqa: F403
from master.api.core.service import *  # noqa: F403
