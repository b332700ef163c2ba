from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

AccountKind = Literal["customer", "rider", "staff", "admin"]


class AccountCreate(BaseModel):
    kind: AccountKind
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(pattern=r"^\+[1-9]\d{6,14}$", description="E.164")
    email: EmailStr | None = None


class Account(AccountCreate):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
