from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field


class LoginIn(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1000)]


class UserOut(BaseModel):
    username: str
    printed_name: str
    role: str
    sites: list[str]
