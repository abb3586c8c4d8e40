"""Flask extensions, created unbound here and initialised in ``create_app`` (imports nothing of ours)."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
#: When the shared rate-limit storage (Redis) cannot be reached, each process goes on counting in its
#: own memory and no request fails because of it (fail open to per-process limits, logged); login
#: stays guarded across processes by the per-account backoff in the database
#: (webapp.services.accounts). Short socket timeouts keep a hung Redis from stalling requests.
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[],
    in_memory_fallback_enabled=True,
    swallow_errors=True,
    storage_options={"socket_connect_timeout": 1, "socket_timeout": 1},
)
