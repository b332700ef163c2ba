"""An OpenFeature provider, so a brand's Python services evaluate tiffin flags through the
vendor-neutral API (`openfeature.api.get_client().get_boolean_value(...)`).

Evaluation is synchronous and in-process; `await provider.refresh()` (or any request that
evaluates flags in the same process) keeps the tenant's compiled flags current.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from openfeature.evaluation_context import EvaluationContext as OFContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails, FlagValueType, Reason
from openfeature.provider import AbstractProvider, Metadata
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiffin.flags.evaluator import FlagSet
from tiffin.flags.service import FlagService

_REASONS = {
    "killed": Reason.DISABLED,
    "disabled": Reason.DISABLED,
    "prerequisite_failed": Reason.DISABLED,
    "target": Reason.TARGETING_MATCH,
    "rule": Reason.TARGETING_MATCH,
    "fallthrough": Reason.SPLIT,
    "not_in_rollout": Reason.SPLIT,
    "platform_default": Reason.DEFAULT,
}


class TiffinProvider(AbstractProvider):
    def __init__(
        self,
        service: FlagService,
        sessionmaker: async_sessionmaker[AsyncSession],
        tenant_id: uuid.UUID,
    ) -> None:
        super().__init__()
        self.service = service
        self.sessionmaker = sessionmaker
        self.tenant_id = tenant_id

    def get_metadata(self) -> Metadata:
        return Metadata(name="tiffin")

    def get_provider_hooks(self) -> list[Any]:
        return []

    async def refresh(self) -> None:
        await self.service.flag_set(self.sessionmaker, self.tenant_id)

    def _resolve(
        self, key: str, default: Any, context: OFContext | None, accept: Callable[[Any], bool]
    ) -> FlagResolutionDetails[Any]:
        flag_set: FlagSet | None = self.service.cached(self.tenant_id)
        if flag_set is None:
            return FlagResolutionDetails(
                default,
                reason=Reason.ERROR,
                error_code=ErrorCode.PROVIDER_NOT_READY,
                error_message="call refresh() first",
            )
        attributes: dict[str, Any] = dict(context.attributes) if context else {}
        if context and context.targeting_key:
            attributes.setdefault("user_id", context.targeting_key)
        result = flag_set.evaluate(key, attributes, time.time())
        if result.reason == "unknown_flag":
            return FlagResolutionDetails(
                default, reason=Reason.ERROR, error_code=ErrorCode.FLAG_NOT_FOUND
            )
        if not accept(result.value):
            return FlagResolutionDetails(
                default, reason=Reason.ERROR, error_code=ErrorCode.TYPE_MISMATCH
            )
        return FlagResolutionDetails(
            result.value, variant=result.variant, reason=_REASONS.get(result.reason, Reason.UNKNOWN)
        )

    def resolve_boolean_details(
        self, flag_key: str, default_value: bool, evaluation_context: OFContext | None = None
    ) -> FlagResolutionDetails[bool]:
        return self._resolve(
            flag_key, default_value, evaluation_context, lambda v: isinstance(v, bool)
        )

    def resolve_string_details(
        self, flag_key: str, default_value: str, evaluation_context: OFContext | None = None
    ) -> FlagResolutionDetails[str]:
        return self._resolve(
            flag_key, default_value, evaluation_context, lambda v: isinstance(v, str)
        )

    def resolve_integer_details(
        self, flag_key: str, default_value: int, evaluation_context: OFContext | None = None
    ) -> FlagResolutionDetails[int]:
        return self._resolve(
            flag_key,
            default_value,
            evaluation_context,
            lambda v: isinstance(v, int) and not isinstance(v, bool),
        )

    def resolve_float_details(
        self, flag_key: str, default_value: float, evaluation_context: OFContext | None = None
    ) -> FlagResolutionDetails[float]:
        return self._resolve(
            flag_key,
            default_value,
            evaluation_context,
            lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        )

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: Sequence[FlagValueType] | Mapping[str, FlagValueType],
        evaluation_context: OFContext | None = None,
    ) -> FlagResolutionDetails[Any]:
        return self._resolve(
            flag_key, default_value, evaluation_context, lambda v: isinstance(v, dict | list)
        )
