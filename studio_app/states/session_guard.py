"""A tab's states belong to one session: when the session changes, they are emptied.

Reflex keeps a tab's state under the tab's id, across sign-outs and sign-ins, and
sends all of it to whoever connects with that id. This event middleware runs before
every event (the first hydrate included): if the session cookie of the event's
websocket is not the one the tab's data was loaded for, every state of the app is
reset to its defaults before anything is sent, and the tab is bound to the new session.
So the next user of a tab, or a socket that reuses a tab's id without its cookie,
receives nothing of the previous user's. Every state of the app is covered, including
states added later: they are found by walking the state tree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import reflex as rx
from reflex.istate.manager.token import BaseStateToken
from reflex.middleware.middleware import Middleware
from reflex_base.registry import RegistrationContext

from studio_app.states.auth import AuthState

if TYPE_CHECKING:
    from reflex.app import App
    from reflex.state import BaseState, StateUpdate
    from reflex_base.event import Event

_APP_PACKAGE = "studio_app."


def app_state_classes(root: type[BaseState] = rx.State) -> list[type[BaseState]]:
    """Every state class of this app below `root` (Reflex's own states excluded)."""
    found = []
    for substate in root.get_substates():
        if substate.__module__.startswith(_APP_PACKAGE):
            found.append(substate)
        found.extend(app_state_classes(substate))
    return found


class SessionBoundStates(Middleware):
    def __init__(self) -> None:
        # Made after every state module is imported (studio_app.py adds it last).
        self.state_classes = app_state_classes()

    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        auth_state = await state.get_state(AuthState)
        session = auth_state._session_hash()
        if auth_state._bound_session != session:
            await self._forget_every_user_state(state)
            auth_state._bound_session = session
        return None

    async def _forget_every_user_state(self, root: BaseState) -> None:
        """Reset every state of the app in this tab to its defaults (loading any not loaded)."""
        for state_class in self.state_classes:
            state = await root.get_state(state_class)
            state.reset()


async def session_of_tab(tab_token: str) -> str:
    """The session (its hash) whose data a tab holds: what an upload into it must carry."""
    app = RegistrationContext.get().app
    root = await app.state_manager.get_state(BaseStateToken(ident=tab_token, cls=AuthState))
    return (await root.get_state(AuthState))._bound_session
