"""The demo network as plain data: the tenant, its parties, sites, locations and users.

Everything here is fictional (names, addresses, phone numbers) but shaped like the real thing,
and fixed: GLNs are derived from each party's GS1 company prefix by :mod:`medledger.seed.demo`.
Nothing depends on today's date or on chance, so two seeds give the same network.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from medledger.core.principal import Role
from medledger.parties.models import PartyRole, StorageClass, ZonePurpose

TENANT_NAME = "Lumen Medical Devices network"
TENANT_SLUG = "demo"

AMBIENT = StorageClass.AMBIENT
CHILLED = StorageClass.CHILLED_2_8
FROZEN = StorageClass.FROZEN
RECEIVING = ZonePurpose.RECEIVING_QUARANTINE
RELEASED = ZonePurpose.RELEASED
REJECTED = ZonePurpose.REJECTED
SHIPPING = ZonePurpose.SHIPPING

# --- network ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactSpec:
    name: str
    function: str
    email: str
    phone: str


@dataclass(frozen=True)
class LocationSpec:
    code: str
    name: str
    storage_class: StorageClass
    zone_purpose: ZonePurpose


@dataclass(frozen=True)
class SiteSpec:
    key: str
    name: str
    city: str
    address: str
    locations: tuple[LocationSpec, ...]
    country: str | None = None  # the party's when None
    time_zone: str | None = None  # the party's when None


@dataclass(frozen=True)
class PartySpec:
    """One organisation. ``company_prefix`` is its (fictional) 7-digit GS1 company prefix: its
    GLNs and, for product owners, its GTINs are built from it."""

    key: str
    name: str
    roles: tuple[PartyRole, ...]
    country: str
    region: str
    time_zone: str
    company_prefix: str
    contacts: tuple[ContactSpec, ...]
    sites: tuple[SiteSpec, ...] = field(default_factory=tuple)


def _full_zones(suffix: str, storage: StorageClass, label: str = "") -> tuple[LocationSpec, ...]:
    """Receiving/quarantine, released, rejected and shipping locations of one storage class."""
    tag = f" ({label})" if label else ""
    return (
        LocationSpec(f"RCV{suffix}", f"Goods receipt and quarantine{tag}", storage, RECEIVING),
        LocationSpec(f"REL{suffix}", f"Released stock{tag}", storage, RELEASED),
        LocationSpec(f"REJ{suffix}", f"Rejected and non-conforming{tag}", storage, REJECTED),
        LocationSpec(f"SHP{suffix}", f"Shipping dock{tag}", storage, SHIPPING),
    )


COLD = "2–8 °C"

HUB = PartySpec(
    key="hub",
    name="Lumen Medical Devices",
    roles=(PartyRole.MANUFACTURER,),
    country="CN",
    region="CN",
    time_zone="Asia/Shanghai",
    company_prefix="6971234",
    contacts=(
        ContactSpec(
            "Zhang Wei (张伟)",
            "Head of Supply Chain",
            "wei.zhang@lumen-medical.example",
            "+86 512 5550 0100",
        ),
        ContactSpec(
            "Siobhan Murphy",
            "Head of Quality (EU)",
            "siobhan.murphy@lumen-medical.example",
            "+353 91 555 0110",
        ),
    ),
    sites=(
        SiteSpec(
            "plant-suzhou",
            "Lumen Suzhou Plant (implants and catheters)",
            "Suzhou",
            "88 Xinghu Street, Suzhou Industrial Park, Jiangsu 215123",
            _full_zones("", AMBIENT),
        ),
        SiteSpec(
            "plant-galway",
            "Lumen Galway Plant (kits and IVD reagents)",
            "Galway",
            "Unit 4, Parkmore West Business Park, Galway H91 X2E4",
            (
                *_full_zones("", AMBIENT),
                LocationSpec("RCV-C", f"Goods receipt and quarantine ({COLD})", CHILLED, RECEIVING),
                LocationSpec("REL-C", f"Released stock ({COLD})", CHILLED, RELEASED),
                LocationSpec("SHP-C", f"Shipping dock ({COLD})", CHILLED, SHIPPING),
                LocationSpec("RCV-F", "Goods receipt and quarantine (frozen)", FROZEN, RECEIVING),
                LocationSpec("REL-F", "Released stock (frozen)", FROZEN, RELEASED),
            ),
            country="IE",
            time_zone="Europe/Dublin",
        ),
        SiteSpec(
            "dc-shanghai",
            "Lumen Shanghai Distribution Centre",
            "Shanghai",
            "1200 Waigaoqiao Free Trade Zone, Pudong, Shanghai 200131",
            _full_zones("", AMBIENT),
        ),
        SiteSpec(
            "dc-chengdu",
            "Lumen Chengdu Distribution Centre",
            "Chengdu",
            "36 Kexin Road, Shuangliu District, Chengdu 610200",
            _full_zones("", AMBIENT),
        ),
        SiteSpec(
            "dc-venlo",
            "Lumen Venlo Cold-Chain Distribution Centre",
            "Venlo",
            "Logistiekweg 12, 5928 LV Venlo",
            (*_full_zones("", AMBIENT), *_full_zones("-C", CHILLED, COLD)),
            country="NL",
            time_zone="Europe/Amsterdam",
        ),
    ),
)


def _contact(name: str, function: str, email: str, phone: str) -> tuple[ContactSpec, ...]:
    return (ContactSpec(name, function, email, phone),)


def _single_site(
    key: str, name: str, city: str, address: str, locations: tuple[LocationSpec, ...]
) -> tuple[SiteSpec, ...]:
    return (SiteSpec(key, name, city, address, locations),)


_SHIP_AMBIENT = (LocationSpec("SHP", "Shipping dock", AMBIENT, SHIPPING),)

SUPPLIERS: tuple[PartySpec, ...] = (
    PartySpec(
        "supplier-alloys",
        "Hangzhou Precision Alloys Co., Ltd. (杭州精密合金有限公司)",
        (PartyRole.SUPPLIER,),
        "CN",
        "CN",
        "Asia/Shanghai",
        "6930101",
        (
            ContactSpec(
                "Wang Lei (王磊)",
                "Supplier quality",
                "wang.lei@hz-alloys.example",
                "+86 571 5550 0201",
            ),
            ContactSpec(
                "Li Na (李娜)", "Shipping clerk", "li.na@hz-alloys.example", "+86 571 5550 0202"
            ),
        ),
        _single_site(
            "supplier-alloys-works",
            "Hangzhou Precision Alloys – Xiaoshan works",
            "Hangzhou",
            "17 Hongda Road, Xiaoshan, Hangzhou 311215",
            _SHIP_AMBIENT,
        ),
    ),
    PartySpec(
        "supplier-polymer",
        "Rhein Polymer Technik GmbH",
        (PartyRole.SUPPLIER,),
        "DE",
        "EU",
        "Europe/Berlin",
        "4010102",
        (
            ContactSpec(
                "Jana Becker",
                "Key account manager",
                "j.becker@rhein-polymer.example",
                "+49 621 555 0301",
            ),
            ContactSpec(
                "Tobias Schulz",
                "Quality engineer",
                "t.schulz@rhein-polymer.example",
                "+49 621 555 0302",
            ),
        ),
        _single_site(
            "supplier-polymer-works",
            "Rhein Polymer Technik – Mannheim extrusion",
            "Mannheim",
            "Industriestraße 44, 68169 Mannheim",
            _SHIP_AMBIENT,
        ),
    ),
    PartySpec(
        "supplier-bioreagents",
        "Nordic Bio-Reagents AB",
        (PartyRole.SUPPLIER,),
        "SE",
        "EU",
        "Europe/Stockholm",
        "7310103",
        (
            ContactSpec(
                "Elin Lindqvist",
                "Customer service",
                "elin.lindqvist@nordicbio.example",
                "+46 18 555 0401",
            ),
            ContactSpec(
                "Anders Berg",
                "Quality assurance",
                "anders.berg@nordicbio.example",
                "+46 18 555 0402",
            ),
        ),
        _single_site(
            "supplier-bioreagents-works",
            "Nordic Bio-Reagents – Uppsala",
            "Uppsala",
            "Dag Hammarskjölds väg 30, 752 37 Uppsala",
            (
                *_SHIP_AMBIENT,
                LocationSpec("SHP-C", f"Shipping dock ({COLD})", CHILLED, SHIPPING),
                LocationSpec("SHP-F", "Shipping dock (frozen)", FROZEN, SHIPPING),
            ),
        ),
    ),
    PartySpec(
        "supplier-packaging",
        "Keystone Medical Packaging Inc.",
        (PartyRole.SUPPLIER,),
        "US",
        "US",
        "America/New_York",
        "0810104",
        (
            ContactSpec(
                "Rachel Morgan",
                "Account manager",
                "rmorgan@keystonepack.example",
                "+1 717 555 0501",
            ),
            ContactSpec(
                "Kevin O'Neill",
                "Quality manager",
                "koneill@keystonepack.example",
                "+1 717 555 0502",
            ),
        ),
        _single_site(
            "supplier-packaging-works",
            "Keystone Medical Packaging – Lancaster",
            "Lancaster",
            "2200 Harrisburg Pike, Lancaster, PA 17601",
            _SHIP_AMBIENT,
        ),
    ),
    PartySpec(
        "supplier-plastics",
        "苏州康塑医用材料有限公司",
        (PartyRole.SUPPLIER,),
        "CN",
        "CN",
        "Asia/Shanghai",
        "6930105",
        (
            ContactSpec(
                "Sun Hao (孙浩)", "销售经理", "sun.hao@kangsu-med.example", "+86 512 5550 0601"
            ),
            ContactSpec(
                "Zhou Yan (周燕)", "质量工程师", "zhou.yan@kangsu-med.example", "+86 512 5550 0602"
            ),
        ),
        _single_site(
            "supplier-plastics-works",
            "康塑 吴中工厂",
            "Suzhou",
            "江苏省苏州市吴中区旺山工业园 9 号",
            _SHIP_AMBIENT,
        ),
    ),
    PartySpec(
        "supplier-coatings",
        "Osaka Fine Coatings K.K.",
        (PartyRole.SUPPLIER,),
        "JP",
        "JP",
        "Asia/Tokyo",
        "4500106",
        (
            ContactSpec(
                "Sato Yuki", "Export sales", "y.sato@osaka-coatings.example", "+81 6 5550 0701"
            ),
            ContactSpec(
                "Tanaka Hiroshi",
                "Quality assurance",
                "h.tanaka@osaka-coatings.example",
                "+81 6 5550 0702",
            ),
        ),
        _single_site(
            "supplier-coatings-works",
            "Osaka Fine Coatings – Sakai plant",
            "Sakai",
            "3-5 Chikko-Shinmachi, Nishi-ku, Sakai, Osaka 592-8331",
            (
                *_SHIP_AMBIENT,
                LocationSpec("SHP-C", f"Shipping dock ({COLD})", CHILLED, SHIPPING),
            ),
        ),
    ),
)

CONTRACT_MANUFACTURER = PartySpec(
    "cmo",
    "Dongguan Meditek Contract Manufacturing Co., Ltd. (东莞美迪泰医疗制造有限公司)",
    (PartyRole.CONTRACT_MANUFACTURER,),
    "CN",
    "CN",
    "Asia/Shanghai",
    "6930107",
    (
        ContactSpec(
            "Huang Xiaodong (黄晓东)",
            "Programme manager",
            "huang.xd@meditek-dg.example",
            "+86 769 5550 0801",
        ),
        ContactSpec(
            "Chen Yu (陈宇)", "Quality manager", "chen.yu@meditek-dg.example", "+86 769 5550 0802"
        ),
    ),
    _single_site(
        "cmo-plant",
        "Meditek Songshan Lake plant",
        "Dongguan",
        "8 Industrial South Road, Songshan Lake, Dongguan 523808",
        _full_zones("", AMBIENT),
    ),
)

TEST_LAB = PartySpec(
    "lab",
    "EuroMed Test Laboratories GmbH",
    (PartyRole.TEST_LAB,),
    "DE",
    "EU",
    "Europe/Berlin",
    "4010108",
    (
        ContactSpec(
            "Dr. Katrin Vogel",
            "Laboratory manager",
            "k.vogel@euromed-labs.example",
            "+49 89 555 0901",
        ),
        ContactSpec(
            "Felix Braun", "Sample reception", "f.braun@euromed-labs.example", "+49 89 555 0902"
        ),
    ),
    _single_site(
        "lab-munich",
        "EuroMed Test Laboratories – Munich",
        "Munich",
        "Lichtenbergstraße 8, 85748 Garching bei München",
        (
            LocationSpec("RCV", "Sample reception", AMBIENT, RECEIVING),
            LocationSpec("RCV-C", f"Sample reception ({COLD})", CHILLED, RECEIVING),
        ),
    ),
)

LOGISTICS_PROVIDER = PartySpec(
    "3pl",
    "Bluegrass Medical Logistics LLC",
    (PartyRole.LOGISTICS_PROVIDER,),
    "US",
    "US",
    "America/Chicago",
    "0810109",
    (
        ContactSpec(
            "Tyler Brooks",
            "Warehouse supervisor",
            "tbrooks@bluegrass-logistics.example",
            "+1 901 555 1001",
        ),
        ContactSpec(
            "Monica Reyes",
            "Account manager",
            "mreyes@bluegrass-logistics.example",
            "+1 901 555 1002",
        ),
    ),
    _single_site(
        "3pl-memphis",
        "Bluegrass Medical Logistics – Memphis hub",
        "Memphis",
        "4100 Airways Blvd, Memphis, TN 38116",
        (
            *_full_zones("", AMBIENT),
            LocationSpec("REL-C", f"Released stock ({COLD})", CHILLED, RELEASED),
        ),
    ),
)

_DISTRIBUTOR_LOCATIONS = (
    LocationSpec("RCV", "Goods receipt", AMBIENT, RECEIVING),
    LocationSpec("REL", "Saleable stock", AMBIENT, RELEASED),
    LocationSpec("REL-C", f"Saleable stock ({COLD})", CHILLED, RELEASED),
    LocationSpec("SHP", "Dispatch", AMBIENT, SHIPPING),
)


def _distributor(
    key: str,
    name: str,
    country: str,
    region: str,
    time_zone: str,
    prefix: str,
    contact: ContactSpec,
    site_name: str,
    city: str,
    address: str,
) -> PartySpec:
    return PartySpec(
        key,
        name,
        (PartyRole.DISTRIBUTOR,),
        country,
        region,
        time_zone,
        prefix,
        (contact,),
        _single_site(f"{key}-dc", site_name, city, address, _DISTRIBUTOR_LOCATIONS),
    )


DISTRIBUTORS: tuple[PartySpec, ...] = (
    _distributor(
        "dist-cn-east",
        "华东瑞康医疗器械有限公司",
        "CN",
        "CN",
        "Asia/Shanghai",
        "6930110",
        ContactSpec(
            "Xu Ming (徐明)", "订单主管", "xu.ming@ruikang-med.example", "+86 21 5550 1101"
        ),
        "瑞康 上海物流中心",
        "Shanghai",
        "上海市闵行区莘庄工业区春东路 508 号",
    ),
    _distributor(
        "dist-cn-north",
        "北方康泰医疗供应链有限公司",
        "CN",
        "CN",
        "Asia/Shanghai",
        "6930111",
        ContactSpec(
            "Zhao Lin (赵琳)", "订单主管", "zhao.lin@kangtai-scm.example", "+86 10 5550 1201"
        ),
        "康泰 北京仓",
        "Beijing",
        "北京市大兴区物流园区金星路 12 号",
    ),
    _distributor(
        "dist-eu-de",
        "MediFlow Distribution GmbH",
        "DE",
        "EU",
        "Europe/Berlin",
        "4010112",
        ContactSpec(
            "Jonas Keller", "Order desk lead", "j.keller@mediflow.example", "+49 40 555 1301"
        ),
        "MediFlow – Hamburg warehouse",
        "Hamburg",
        "Am Hafen 21, 21107 Hamburg",
    ),
    _distributor(
        "dist-eu-es",
        "Iberia Medical Supply S.L.",
        "ES",
        "EU",
        "Europe/Madrid",
        "8410113",
        ContactSpec(
            "Lucía Fernández", "Customer service", "lfernandez@iberiamed.example", "+34 91 555 1401"
        ),
        "Iberia Medical Supply – Getafe",
        "Getafe",
        "Calle de la Logística 7, 28906 Getafe, Madrid",
    ),
    _distributor(
        "dist-us",
        "Atlantic Surgical Supply Inc.",
        "US",
        "US",
        "America/New_York",
        "0810114",
        ContactSpec("Daniel Kim", "Order desk", "dkim@atlanticsurgical.example", "+1 201 555 1501"),
        "Atlantic Surgical Supply – Secaucus DC",
        "Secaucus",
        "500 Meadowlands Pkwy, Secaucus, NJ 07094",
    ),
)

_HOSPITAL_LOCATIONS = (
    LocationSpec("RCV", "Goods receipt", AMBIENT, RECEIVING),
    LocationSpec("STORE", "Central sterile store", AMBIENT, RELEASED),
    LocationSpec("LAB-C", f"Laboratory refrigerator ({COLD})", CHILLED, RELEASED),
)

_HOSPITAL_LOCATIONS_CN = (
    LocationSpec("RCV", "收货区", AMBIENT, RECEIVING),
    LocationSpec("STORE", "中心无菌库房", AMBIENT, RELEASED),
    LocationSpec("LAB-C", f"检验科冷藏柜 ({COLD})", CHILLED, RELEASED),
)


# (key, name, country, city, time zone, contact name, contact function, mailbox domain, address)
# fmt: off
_HOSPITAL_ROWS: tuple[tuple[str, str, str, str, str, str, str, str, str], ...] = (
    ("hosp-cn-01", "上海东华医院", "CN", "Shanghai", "Asia/Shanghai", "Liu Fang (刘芳)",
     "设备科主任", "donghua-hosp.example", "上海市黄浦区东华路 120 号"),
    ("hosp-cn-02", "上海浦江人民医院", "CN", "Shanghai", "Asia/Shanghai", "Chen Jie (陈洁)",
     "物资管理科", "pujiang-hosp.example", "上海市浦东新区浦江大道 360 号"),
    ("hosp-cn-03", "北京安和医院", "CN", "Beijing", "Asia/Shanghai", "Yang Tao (杨涛)",
     "设备科主任", "anhe-hosp.example", "北京市朝阳区安和路 8 号"),
    ("hosp-cn-04", "北京华康心血管病医院", "CN", "Beijing", "Asia/Shanghai", "Ma Li (马丽)",
     "导管室护士长", "huakang-heart.example", "北京市海淀区华康街 66 号"),
    ("hosp-cn-05", "广州南湾医院", "CN", "Guangzhou", "Asia/Shanghai", "Huang Jun (黄俊)",
     "物资管理科", "nanwan-hosp.example", "广州市海珠区南湾路 233 号"),
    ("hosp-cn-06", "深圳前海国际医院", "CN", "Shenzhen", "Asia/Shanghai", "Lin Xue (林雪)",
     "采购主管", "qianhai-intl.example", "深圳市南山区前海大道 99 号"),
    ("hosp-cn-07", "杭州钱塘和睦医院", "CN", "Hangzhou", "Asia/Shanghai", "Zhu Bin (朱斌)",
     "设备科", "qiantang-hemu.example", "杭州市钱塘区和睦路 18 号"),
    ("hosp-cn-08", "南京紫金山医院", "CN", "Nanjing", "Asia/Shanghai", "Gao Min (高敏)",
     "物资管理科", "zijinshan-hosp.example", "南京市玄武区紫金路 52 号"),
    ("hosp-cn-09", "成都蓉城心脏中心", "CN", "Chengdu", "Asia/Shanghai", "Deng Hui (邓慧)",
     "导管室护士长", "rongcheng-heart.example", "成都市武侯区蓉城大道 300 号"),
    ("hosp-cn-10", "武汉江汉瑞安医院", "CN", "Wuhan", "Asia/Shanghai", "Hu Qiang (胡强)",
     "设备科主任", "jianghan-ruian.example", "武汉市江汉区瑞安街 77 号"),
    ("hosp-eu-01", "Klinikum Rheinhafen", "DE", "Mannheim", "Europe/Berlin", "Sabine Krüger",
     "Head of materials management", "klinikum-rheinhafen.example",
     "Hafenstraße 90, 68159 Mannheim"),
    ("hosp-eu-02", "Städtisches Klinikum Lindenau", "DE", "Leipzig", "Europe/Berlin",
     "Thomas Wagner", "Purchasing", "klinikum-lindenau.example",
     "Lützner Straße 150, 04179 Leipzig"),
    ("hosp-eu-03", "Hôpital Saint-Aubin", "FR", "Lyon", "Europe/Paris", "Claire Dubois",
     "Pharmacie à usage intérieur", "hopital-saint-aubin.example",
     "14 rue Saint-Aubin, 69007 Lyon"),
    ("hosp-eu-04", "Centre Hospitalier Val-de-Loire", "FR", "Tours", "Europe/Paris",
     "Julien Moreau", "Responsable logistique", "ch-valdeloire.example",
     "2 boulevard Tonnellé, 37000 Tours"),
    ("hosp-eu-05", "Ospedale San Vitale", "IT", "Bologna", "Europe/Rome", "Giulia Ricci",
     "Farmacia ospedaliera", "ospedale-sanvitale.example",
     "Via San Vitale 112, 40125 Bologna"),
    ("hosp-eu-06", "Hospital Universitario Sierra Norte", "ES", "Madrid", "Europe/Madrid",
     "Javier López", "Jefe de suministros", "hu-sierranorte.example",
     "Avenida de la Sierra 45, 28034 Madrid"),
    ("hosp-eu-07", "Ziekenhuis Amstelhof", "NL", "Amsterdam", "Europe/Amsterdam",
     "Sanne de Vries", "Inkoop medische hulpmiddelen", "amstelhof-zkh.example",
     "Amstelkade 200, 1078 AR Amsterdam"),
    ("hosp-eu-08", "Krankenhaus Wienerwald Süd", "AT", "Vienna", "Europe/Vienna",
     "Markus Gruber", "Materialwirtschaft", "kh-wienerwald.example",
     "Hietzinger Kai 77, 1130 Wien"),
    ("hosp-eu-09", "St. Brigid's University Hospital", "IE", "Cork", "Europe/Dublin",
     "Aoife Walsh", "Materials manager", "stbrigids-cork.example",
     "Wilton Road, Cork T12 XY34"),
    ("hosp-eu-10", "Szpital Wiślany", "PL", "Kraków", "Europe/Warsaw", "Katarzyna Nowak",
     "Dział zaopatrzenia", "szpital-wislany.example", "ul. Wiślana 31, 30-001 Kraków"),
    ("hosp-us-01", "Mercy Ridge Medical Center", "US", "Pittsburgh", "America/New_York",
     "Emily Parker", "Materials manager", "mercyridge.example",
     "1400 Ridge Ave, Pittsburgh, PA 15233"),
    ("hosp-us-02", "Lakeshore General Hospital", "US", "Chicago", "America/Chicago",
     "Marcus Johnson", "Supply chain director", "lakeshore-general.example",
     "2900 N Lake Shore Dr, Chicago, IL 60657"),
    ("hosp-us-03", "Bayview Heart Institute", "US", "San Francisco", "America/Los_Angeles",
     "Grace Liu", "Cath lab manager", "bayview-heart.example",
     "700 Bayview Blvd, San Francisco, CA 94124"),
    ("hosp-us-04", "Cedar Valley Regional Medical Center", "US", "Cedar Rapids",
     "America/Chicago", "Brian Olson", "Materials manager", "cedarvalley-rmc.example",
     "1026 A Ave NE, Cedar Rapids, IA 52402"),
    ("hosp-us-05", "St. Agnes Harbor Hospital", "US", "Boston", "America/New_York",
     "Megan O'Brien", "Purchasing", "stagnes-harbor.example",
     "88 Harbor St, Boston, MA 02210"),
    ("hosp-us-06", "Desert Palms Medical Center", "US", "Phoenix", "America/Phoenix",
     "Carlos Ramirez", "Supply chain manager", "desertpalms-mc.example",
     "4500 E Camelback Rd, Phoenix, AZ 85018"),
    ("hosp-us-07", "Bluebonnet University Hospital", "US", "Austin", "America/Chicago",
     "Ashley Nguyen", "Materials manager", "bluebonnet-uh.example",
     "1500 Red River St, Austin, TX 78701"),
    ("hosp-us-08", "Evergreen Sound Medical Center", "US", "Seattle", "America/Los_Angeles",
     "Ryan Foster", "Perioperative supply", "evergreen-sound.example",
     "1200 Alaskan Way, Seattle, WA 98101"),
    ("hosp-us-09", "Magnolia Coast Hospital", "US", "Savannah", "America/New_York",
     "Hannah Price", "Materials manager", "magnolia-coast.example",
     "310 Bay St, Savannah, GA 31401"),
    ("hosp-us-10", "Front Range Orthopedic Hospital", "US", "Denver", "America/Denver",
     "Logan Mitchell", "OR supply coordinator", "frontrange-ortho.example",
     "2100 E 17th Ave, Denver, CO 80206"),
)
# fmt: on

# GS1 prefix ranges per country (the 3 leading digits of a company prefix); the rest is made up.
_COUNTRY_GS1_PREFIX = {
    "CN": "693",
    "DE": "401",
    "FR": "301",
    "IT": "801",
    "ES": "841",
    "NL": "871",
    "AT": "901",
    "IE": "539",
    "PL": "590",
    "US": "081",
}
_COUNTRY_REGION = {
    "CN": "CN",
    "DE": "EU",
    "FR": "EU",
    "IT": "EU",
    "ES": "EU",
    "NL": "EU",
    "AT": "EU",
    "IE": "EU",
    "PL": "EU",
    "US": "US",
}
_PHONE_PREFIX = {
    "CN": "+86 10 5550",
    "DE": "+49 30 555",
    "FR": "+33 4 555",
    "IT": "+39 051 555",
    "ES": "+34 91 555",
    "NL": "+31 20 555",
    "AT": "+43 1 555",
    "IE": "+353 21 555",
    "PL": "+48 12 555",
    "US": "+1 555 555",
}


def _hospital(index: int, row: tuple[str, str, str, str, str, str, str, str, str]) -> PartySpec:
    key, name, country, city, time_zone, contact, function, domain, address = row
    local = contact.split(" (")[0].lower().replace(" ", ".").replace("'", "")
    chinese = country == "CN"
    return PartySpec(
        key,
        name,
        (PartyRole.HOSPITAL,),
        country,
        _COUNTRY_REGION[country],
        time_zone,
        f"{_COUNTRY_GS1_PREFIX[country]}2{index:03d}",
        (
            ContactSpec(
                contact,
                function,
                f"{local}@{domain}",
                f"{_PHONE_PREFIX[country]} {2000 + index:04d}",
            ),
        ),
        _single_site(
            f"{key}-store",
            f"{name} 中心库房" if chinese else f"{name} – Central supply",
            city,
            address,
            _HOSPITAL_LOCATIONS_CN if chinese else _HOSPITAL_LOCATIONS,
        ),
    )


HOSPITALS: tuple[PartySpec, ...] = tuple(
    _hospital(index, row) for index, row in enumerate(_HOSPITAL_ROWS, start=1)
)

# Creation order; the hub comes first (it is created with the tenant).
PARTNERS: tuple[PartySpec, ...] = (
    *SUPPLIERS,
    CONTRACT_MANUFACTURER,
    TEST_LAB,
    LOGISTICS_PROVIDER,
    *DISTRIBUTORS,
    *HOSPITALS,
)
PARTIES: tuple[PartySpec, ...] = (HUB, *PARTNERS)


# --- users -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserSpec:
    username: str
    display_name: str
    role: Role
    party_key: str
    locale: str
    time_zone: str


USERS: tuple[UserSpec, ...] = (
    UserSpec("admin", "Lena Hoffmann", Role.ADMIN, "hub", "en", "Europe/Berlin"),
    UserSpec("planner", "陈静 Chen Jing", Role.PLANNER, "hub", "zh_Hans", "Asia/Shanghai"),
    UserSpec("sales", "Marco Rossi", Role.SALES, "hub", "en", "Europe/Berlin"),
    UserSpec("warehouse", "刘洋 Liu Yang", Role.WAREHOUSE, "hub", "zh_Hans", "Asia/Shanghai"),
    UserSpec("purchasing", "周敏 Zhou Min", Role.PURCHASING, "hub", "zh_Hans", "Asia/Shanghai"),
    UserSpec("quality", "Siobhan Murphy", Role.QA, "hub", "en", "Europe/Dublin"),
    UserSpec("qa_approver", "Dr. Anna Weber", Role.QA_APPROVER, "hub", "en", "Europe/Berlin"),
    UserSpec("auditor", "James Carter", Role.AUDITOR, "hub", "en", "America/New_York"),
    UserSpec(
        "supplier",
        "王磊 Wang Lei",
        Role.PARTNER_USER,
        "supplier-alloys",
        "zh_Hans",
        "Asia/Shanghai",
    ),
    UserSpec("cmo", "黄晓东 Huang Xiaodong", Role.PARTNER_USER, "cmo", "zh_Hans", "Asia/Shanghai"),
    UserSpec("lab", "Dr. Katrin Vogel", Role.PARTNER_USER, "lab", "en", "Europe/Berlin"),
    UserSpec("logistics", "Tyler Brooks", Role.PARTNER_USER, "3pl", "en", "America/Chicago"),
    UserSpec("distributor", "Jonas Keller", Role.PARTNER_USER, "dist-eu-de", "en", "Europe/Berlin"),
    UserSpec("hospital", "Emily Parker", Role.PARTNER_USER, "hosp-us-01", "en", "America/New_York"),
)
