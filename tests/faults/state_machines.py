"""What the state-machine tests share: a machine on its own outer transaction of the test database,
and the runner that gives it the engine (with fast password hashing while it runs)."""

from __future__ import annotations

from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test
from sqlalchemy.orm import Session

from webapp.services import accounts


class OnTestDatabase(RuleBasedStateMachine):
    """A machine whose every example runs in one outer transaction, rolled back at its teardown;
    ``self.db`` commits by releasing savepoints."""

    engine = None  # set by ``run``

    def __init__(self):
        super().__init__()
        self.connection = type(self).engine.connect()
        self.outer = self.connection.begin()
        self.db = Session(
            bind=self.connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

    def teardown(self):
        self.db.close()
        if self.outer.is_active:
            self.outer.rollback()
        self.connection.close()


def run(machine: type[OnTestDatabase], engine, profile) -> None:
    """Run ``machine`` on ``engine`` under the Hypothesis ``profile``."""
    hasher = accounts._hasher
    machine.engine = engine
    accounts.use_fast_hashing(True)
    try:
        run_state_machine_as_test(machine, settings=profile)
    finally:
        accounts._hasher = hasher
        machine.engine = None
