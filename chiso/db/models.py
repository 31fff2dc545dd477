"""Imports every domain's models so that `Base.metadata` knows all tables.

Each domain that adds tables adds one import line here.
"""

from chiso.accounts import models as accounts_models  # noqa: F401
from chiso.analytics import models as analytics_models  # noqa: F401
from chiso.audit import models as audit_models  # noqa: F401
from chiso.collection import models as collection_models  # noqa: F401
from chiso.dti import models as dti_models  # noqa: F401
from chiso.extract import models as extract_models  # noqa: F401
from chiso.funding import models as funding_models  # noqa: F401
from chiso.indicators import models as indicator_models  # noqa: F401
from chiso.meetings import models as meeting_models  # noqa: F401
from chiso.notify import models as notify_models  # noqa: F401
from chiso.ops import models as ops_models  # noqa: F401
from chiso.plans import models as plan_models  # noqa: F401
from chiso.records import models as record_models  # noqa: F401
from chiso.reports import models as report_models  # noqa: F401
from chiso.scoring import models as scoring_models  # noqa: F401
from chiso.storage import models as storage_models  # noqa: F401
from chiso.tasks import models as task_models  # noqa: F401
from chiso.units import models as unit_models  # noqa: F401
from chiso.values import models as value_models  # noqa: F401
