"""Version 0 of the data dictionary, built in: the fields partners exchange with the hub, with
the rules the API already enforces. A tenant's approved versions replace it (they start as a
copy of the version in force and change what they need).

A field: ``entity`` and ``name`` (its key is ``entity.name``), ``type`` (``string``,
``integer``, ``decimal``, ``date``, ``gtin``, ``gln``, ``sscc``, ``enum``), ``unit`` (UN/ECE
Rec 20 code or ""), ``gs1_ai`` (the GS1 Application Identifier carrying it, or ""), ``rules``
(``required``, ``min``, ``max``, ``max_length``, ``pattern``, ``values``) and ``labels`` in
``en`` and ``zh_Hans``.
"""

from __future__ import annotations

from typing import Any

from medledger.parties.models import PartyRole, StorageClass, ZonePurpose

ENTITIES = (
    "product",
    "party",
    "site",
    "location",
    "lot",
    "order",
    "order_line",
    "inspection_result",
)
ENTITY_LABELS = {
    "product": ("Product", "产品"),
    "party": ("Party", "参与方"),
    "site": ("Site", "场所"),
    "location": ("Location", "库位"),
    "lot": ("Lot", "批次"),
    "order": ("Order", "订单"),
    "order_line": ("Order line", "订单行"),
    "inspection_result": ("Inspection result", "检验结果"),
}
# Import entities (integration.imports) -> dictionary entities.
IMPORT_ENTITIES = {
    "products": "product",
    "parties": "party",
    "sites": "site",
    "locations": "location",
}
GS1_CHARSET_82 = r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$"


def _f(
    entity: str,
    name: str,
    type_: str,
    en: str,
    zh: str,
    *,
    unit: str = "",
    ai: str = "",
    **rules: Any,
) -> dict[str, Any]:
    return {
        "entity": entity,
        "name": name,
        "type": type_,
        "unit": unit,
        "gs1_ai": ai,
        "rules": rules,
        "labels": {"en": en, "zh_Hans": zh},
    }


BASELINE: list[dict[str, Any]] = [
    # master data: products
    _f("product", "gtin", "gtin", "GTIN", "全球贸易项目代码", ai="01", required=True),
    _f("product", "name", "string", "Name", "名称", required=True, max_length=200),
    _f("product", "description", "string", "Description", "描述", max_length=2000),
    _f("product", "udi_di", "gtin", "UDI-DI", "UDI-DI", ai="01"),
    _f("product", "basic_udi_di", "string", "Basic UDI-DI", "基本 UDI-DI", max_length=25),
    _f(
        "product",
        "tracking_level",
        "enum",
        "Tracking level",
        "追溯级别",
        required=True,
        values=["lot", "serial"],
    ),
    _f(
        "product",
        "shelf_life_days",
        "integer",
        "Shelf life",
        "有效期",
        unit="DAY",
        min=1,
        max=36500,
    ),
    _f(
        "product",
        "storage_class",
        "enum",
        "Storage class",
        "储存类别",
        required=True,
        values=[s.value for s in StorageClass],
    ),
    _f("product", "unit_of_measure", "string", "Unit of measure", "计量单位", max_length=3),
    _f("product", "owner_gln", "gln", "Owner GLN", "所有方 GLN", ai="417"),
    # master data: parties, sites, locations
    _f("party", "gln", "gln", "GLN", "全球位置码", ai="417", required=True),
    _f("party", "name", "string", "Name", "名称", required=True, max_length=200),
    _f(
        "party",
        "roles",
        "string",
        "Roles",
        "角色",
        required=True,
        pattern=r"^("
        + "|".join(r.value for r in PartyRole)
        + r")(;\s*("
        + "|".join(r.value for r in PartyRole)
        + r"))*$",
    ),
    _f("party", "country", "string", "Country", "国家", required=True, pattern=r"^[A-Z]{2}$"),
    _f("party", "region", "string", "Region", "市场区域", required=True, max_length=8),
    _f("site", "party_gln", "gln", "Party GLN", "参与方 GLN", ai="417", required=True),
    _f("site", "gln", "gln", "GLN", "全球位置码", ai="414", required=True),
    _f("site", "name", "string", "Name", "名称", required=True, max_length=200),
    _f("site", "country", "string", "Country", "国家", required=True, pattern=r"^[A-Z]{2}$"),
    _f("location", "site_gln", "gln", "Site GLN", "场所 GLN", ai="414", required=True),
    _f("location", "code", "string", "Code", "编码", required=True, max_length=32),
    _f("location", "gln", "gln", "GLN", "全球位置码", ai="414"),
    _f("location", "name", "string", "Name", "名称", required=True, max_length=200),
    _f(
        "location",
        "storage_class",
        "enum",
        "Storage class",
        "储存类别",
        required=True,
        values=[s.value for s in StorageClass],
    ),
    _f(
        "location",
        "zone_purpose",
        "enum",
        "Zone purpose",
        "区域用途",
        required=True,
        values=[z.value for z in ZonePurpose],
    ),
    # lots
    _f("lot", "gtin", "gtin", "GTIN", "全球贸易项目代码", ai="01", required=True),
    _f("lot", "lot", "string", "Batch/lot", "批号", ai="10", max_length=20, pattern=GS1_CHARSET_82),
    _f(
        "lot",
        "serial",
        "string",
        "Serial number",
        "序列号",
        ai="21",
        max_length=20,
        pattern=GS1_CHARSET_82,
    ),
    _f("lot", "expiry", "date", "Expiry date", "失效日期", ai="17"),
    _f("lot", "production_date", "date", "Production date", "生产日期", ai="11"),
    _f("lot", "sscc", "sscc", "SSCC", "系列货运包装箱代码", ai="00"),
    # orders
    _f(
        "order",
        "customer_reference",
        "string",
        "Purchase order number",
        "采购订单号",
        ai="400",
        required=True,
        max_length=35,
    ),
    _f("order", "requested_delivery_date", "date", "Requested delivery date", "要求交货日期"),
    _f("order_line", "gtin", "gtin", "GTIN", "全球贸易项目代码", ai="01"),
    _f(
        "order_line",
        "quantity",
        "integer",
        "Quantity",
        "数量",
        unit="EA",
        ai="30",
        required=True,
        min=1,
        max=10_000_000,
    ),
    _f("order_line", "unit_price", "decimal", "Unit price", "单价", min=0),
    _f("order_line", "requested_delivery_date", "date", "Requested delivery date", "要求交货日期"),
    # inspection results (quality)
    _f(
        "inspection_result",
        "characteristic",
        "string",
        "Characteristic",
        "检验特性",
        required=True,
        max_length=200,
    ),
    _f("inspection_result", "measured_value", "decimal", "Measured value", "测量值"),
    _f("inspection_result", "unit", "string", "Unit", "单位", max_length=3),
    _f("inspection_result", "lower_limit", "decimal", "Lower limit", "下限"),
    _f("inspection_result", "upper_limit", "decimal", "Upper limit", "上限"),
    _f(
        "inspection_result",
        "result",
        "enum",
        "Result",
        "结果",
        required=True,
        values=["pass", "fail"],
    ),
]
