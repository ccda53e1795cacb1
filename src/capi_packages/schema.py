"""Every feature's models, so that Base.metadata is complete (for Alembic and the tests).

It lives above the features, not in db/: the database floor knows no feature.
"""

from capi_packages.audit_events import models as _audit_events  # noqa: F401
from capi_packages.db import changes as _changes  # noqa: F401
from capi_packages.db.base import Base
from capi_packages.jobs import models as _jobs  # noqa: F401
from capi_packages.login import models as _login  # noqa: F401
from capi_packages.orgs import models as _orgs  # noqa: F401
from capi_packages.packages import models as _packages  # noqa: F401
from capi_packages.processes import models as _processes  # noqa: F401
from capi_packages.push_matches import models as _push_matches  # noqa: F401
from capi_packages.resource_pool import models as _resource_pool  # noqa: F401
from capi_packages.users import models as _users  # noqa: F401

metadata = Base.metadata
