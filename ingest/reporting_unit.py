"""The reporting unit of a raw directory: `reference/unit.yaml` (a district or a province) or the older
`reference/district.yaml` (a district).

```yaml
level: province            # province | district
name: Hà Tĩnh              # printed as "tỉnh Hà Tĩnh" / "huyện Thạch Hà"
code: "42"                 # 2 digits for a province, 3 for a district
province: Hà Tĩnh          # a district's province; a province's own name
report_deadline_days: 15   # optional
```

Both files present, or a `unit.yaml` that breaks these rules, is a configuration error
(`ReferenceConfigError`): the run stops before any submission is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ingest.units import KINDS, ReferenceConfigError, Unit
from schemas.folding import fold

DEFAULT_DEADLINE_DAYS = 15
LEVELS = {"province": "tỉnh", "district": "huyện"}
_KEYS = {"level", "name", "code", "province", "report_deadline_days"}
_CODE_DIGITS = {"province": 2, "district": 3}
_TITLE_WORDS = ("tinh ", "thanh pho ", "huyen ", "thi xa ", "quan ")


@dataclass(frozen=True)
class ReportingUnit:
    """The district or province a raw directory reports for."""

    level: str
    name: str
    province: str
    code: str | None = None
    deadline_days: int = DEFAULT_DEADLINE_DAYS
    source: str = "unit.yaml"

    @property
    def title(self) -> str:
        """As printed: "tỉnh Hà Tĩnh", "huyện Thạch Hà" (a name that already says "thành phố …" is kept)."""
        if fold(self.name).startswith(_TITLE_WORDS):
            return self.name
        return f"{LEVELS[self.level]} {self.name}"

    def members(self, units: list[Unit]) -> str:
        """The opening's words for the units reporting: "các xã, phường tỉnh Hà Tĩnh", "các xã, thị trấn
        huyện Thạch Hà, tỉnh Hà Tĩnh" (the kinds of `units`, in the usual order)."""
        kinds = {u.kind for u in units} or {"xa"}
        words = ", ".join(KINDS[k] for k in KINDS if k in kinds)
        where = self.title if self.level == "province" else f"{self.title}, tỉnh {self.province}"
        return f"các {words} {where}"


def _fail(path: Path, vi: str, en: str) -> ReferenceConfigError:
    return ReferenceConfigError(path, vi, en)


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _fail(path, f"không đọc được YAML ({first})", f"not readable YAML ({first})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _fail(path, "phải là các cặp khoá: giá trị", "must be a mapping of keys to values")
    return data


def _deadline(path: Path, data: dict) -> int:
    value = data.get("report_deadline_days", DEFAULT_DEADLINE_DAYS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(
            path,
            f"report_deadline_days «{value}» phải là số ngày (số nguyên ≥ 0)",
            f"report_deadline_days '{value}' must be a number of days (integer ≥ 0)",
        )
    return value


def _unit_yaml(path: Path) -> ReportingUnit:
    data = _read_yaml(path)
    unknown = sorted(str(k) for k in data if k not in _KEYS)
    if unknown:
        raise _fail(
            path,
            f"khoá không hợp lệ: {', '.join(unknown)} (dùng: {', '.join(sorted(_KEYS))})",
            f"unknown keys: {', '.join(unknown)} (allowed: {', '.join(sorted(_KEYS))})",
        )
    level = data.get("level")
    if level not in LEVELS:
        raise _fail(
            path, f"level «{level}» phải là province hoặc district", f"level '{level}' must be province or district"
        )
    name = str(data.get("name") or "").strip()
    if not name:
        raise _fail(path, "thiếu name (tên đơn vị)", "name is missing")
    code = data.get("code")
    digits = _CODE_DIGITS[level]
    if isinstance(code, int) and not isinstance(code, bool):
        code = str(code).zfill(digits)
    code = str(code).strip() if code is not None else ""
    if not (code.isdigit() and len(code) == digits):
        raise _fail(
            path,
            f"code «{code}» phải là mã {digits} chữ số của {LEVELS[level]}",
            f"code '{code}' must be the {digits}-digit code of a {level}",
        )
    province = str(data.get("province") or "").strip()
    if level == "province":
        if province and fold(province) != fold(name):
            raise _fail(
                path,
                f"province «{province}» của một tỉnh phải là chính tỉnh đó («{name}»)",
                f"a province's province '{province}' must be itself ('{name}')",
            )
        province = province or name
    elif not province:
        raise _fail(path, "thiếu province (tỉnh của huyện)", "province (the district's province) is missing")
    return ReportingUnit(level, name, province, code, _deadline(path, data), path.name)


def _district_yaml(path: Path) -> ReportingUnit:
    data = _read_yaml(path)
    code = data.get("code")
    return ReportingUnit(
        "district",
        str(data.get("name", "") or ""),
        str(data.get("province", "") or ""),
        None if code is None else str(code),
        _deadline(path, data),
        path.name,
    )


def load_reporting_unit(reference_dir: Path) -> ReportingUnit:
    """The reporting unit of `reference/`: `unit.yaml`, else `district.yaml`, else an unnamed district."""
    unit, district = reference_dir / "unit.yaml", reference_dir / "district.yaml"
    if unit.exists() and district.exists():
        raise _fail(
            unit,
            "có cả unit.yaml và district.yaml; chỉ giữ một tệp (unit.yaml)",
            "both unit.yaml and district.yaml are present; keep one (unit.yaml)",
        )
    if unit.exists():
        return _unit_yaml(unit)
    if district.exists():
        return _district_yaml(district)
    return ReportingUnit("district", "", "", source="district.yaml")
