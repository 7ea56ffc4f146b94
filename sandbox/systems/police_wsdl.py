"""The WSDL of the simulated 110 接处警平台 AlarmService (SOAP 1.1, document/literal).

It declares every operation the service answers (:data:`OPERATIONS`): the read
``QueryAlarms`` and the write side ``FeedbackAlarm`` / ``QueryFeedback`` (警情反馈), so a
client generated from it (zeep) can call all three."""

from __future__ import annotations

NAMESPACE = "http://police.sandbox.govhub/alarm"

ALARM_FIELDS: tuple[tuple[str, str], ...] = (
    ("JJDBH", "接警单编号"),
    ("BJSJ", "报警时间 YYYY-MM-DD HH:MM:SS"),
    ("BJRXM", "报警人姓名"),
    ("BJRDH", "报警人电话"),
    ("BJRSFZH", "报警人身份证号"),
    ("JQLBDM", "警情类别代码"),
    ("JQLXDM", "警情类型代码"),
    ("JQXLDM", "警情细类代码"),
    ("JQLBMC", "警情类别名称"),
    ("FSDZ", "发生地址"),
    ("XZQHDM", "行政区划代码"),
    ("GXDWMC", "管辖单位名称"),
    ("JYAQ", "简要案情"),
    ("CJJG", "处警结果"),
    ("CJZT", "处警状态"),
    ("GXSJ", "更新时间 YYYYMMDDHHMMSS"),
)

OPERATIONS = ("QueryAlarms", "FeedbackAlarm", "QueryFeedback")
"""Every SOAP operation; its ``SOAPAction`` is ``{NAMESPACE}/{operation}``."""

FEEDBACK_PARAMETERS: tuple[tuple[str, str, int], ...] = (
    ("JJDBH", "接警单编号", 1),
    ("CLJG", "处理结果", 1),
    ("CLDW", "处理单位", 0),
    ("FKR", "反馈人", 0),
    ("FKSJ", "反馈时间 YYYY-MM-DD HH:MM:SS", 0),
    ("BZ", "备注 (the caller's own reference)", 0),
)
"""``FeedbackAlarm``'s parameters: name, meaning, minOccurs."""

FEEDBACK_ENTRY_FIELDS: tuple[tuple[str, str], ...] = (
    ("FKBH", "反馈编号"),
    ("CLJG", "处理结果"),
    ("CLDW", "处理单位"),
    ("FKR", "反馈人"),
    ("FKSJ", "反馈时间"),
    ("BZ", "备注"),
)
"""The fields of one feedback in ``QueryFeedback``'s answer."""


def _elements(declared: tuple[tuple[str, str, int], ...]) -> str:
    return "\n".join(
        f'            <xsd:element name="{name}" type="xsd:string" minOccurs="{low}">'
        f"<xsd:annotation><xsd:documentation>{doc}</xsd:documentation></xsd:annotation>"
        "</xsd:element>"
        for name, doc, low in declared
    )


def _operation_xml(name: str) -> tuple[str, str, str]:
    """The messages, the portType operation and the binding operation of one operation."""
    messages = (
        f'  <wsdl:message name="{name}Request">\n'
        f'    <wsdl:part name="parameters" element="tns:{name}"/>\n'
        f"  </wsdl:message>\n"
        f'  <wsdl:message name="{name}Response">\n'
        f'    <wsdl:part name="parameters" element="tns:{name}Response"/>\n'
        f"  </wsdl:message>"
    )
    port = (
        f'    <wsdl:operation name="{name}">\n'
        f'      <wsdl:input message="tns:{name}Request"/>\n'
        f'      <wsdl:output message="tns:{name}Response"/>\n'
        f"    </wsdl:operation>"
    )
    binding = (
        f'    <wsdl:operation name="{name}">\n'
        f'      <soap:operation soapAction="{NAMESPACE}/{name}" style="document"/>\n'
        f"      <wsdl:input>\n"
        f'        <soap:header message="tns:AuthHeader" part="auth" use="literal"/>\n'
        f'        <soap:body use="literal"/>\n'
        f"      </wsdl:input>\n"
        f'      <wsdl:output><soap:body use="literal"/></wsdl:output>\n'
        f"    </wsdl:operation>"
    )
    return messages, port, binding


_OPERATIONS_XML = [_operation_xml(name) for name in OPERATIONS]
_MESSAGES = "\n".join(messages for messages, _, _ in _OPERATIONS_XML)
_PORT_OPERATIONS = "\n".join(port for _, port, _ in _OPERATIONS_XML)
_BINDING_OPERATIONS = "\n".join(binding for _, _, binding in _OPERATIONS_XML)
_FEEDBACK_PARAMETERS_XSD = _elements(FEEDBACK_PARAMETERS)
_FEEDBACK_XSD = _elements(tuple((name, doc, 0) for name, doc in FEEDBACK_ENTRY_FIELDS))

_FIELDS_XSD = "\n".join(
    f'            <xsd:element name="{name}" type="xsd:string" minOccurs="0">'
    f"<xsd:annotation><xsd:documentation>{doc}</xsd:documentation></xsd:annotation>"
    "</xsd:element>"
    for name, doc in ALARM_FIELDS
)

WSDL_TEMPLATE = f"""<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions name="AlarmService" targetNamespace="{NAMESPACE}"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="{NAMESPACE}">
  <wsdl:documentation>110 接处警平台 警情查询服务 (sandbox). Authenticate with the auth header
  (username, password) or a WS-Security UsernameToken (PasswordText).</wsdl:documentation>
  <wsdl:types>
    <xsd:schema targetNamespace="{NAMESPACE}" elementFormDefault="qualified">
      <xsd:complexType name="Alarm">
        <xsd:sequence>
{_FIELDS_XSD}
            <xsd:any minOccurs="0" maxOccurs="unbounded" processContents="lax"/>
        </xsd:sequence>
      </xsd:complexType>
      <xsd:complexType name="AlarmList">
        <xsd:sequence>
          <xsd:element name="alarm" type="tns:Alarm" minOccurs="0" maxOccurs="unbounded"/>
        </xsd:sequence>
      </xsd:complexType>
      <xsd:element name="QueryAlarms">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="startTime" type="xsd:string"/>
            <xsd:element name="endTime" type="xsd:string"/>
            <xsd:element name="pageNo" type="xsd:int"/>
            <xsd:element name="pageSize" type="xsd:int"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:element name="QueryAlarmsResponse">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="total" type="xsd:int"/>
            <xsd:element name="pageNo" type="xsd:int"/>
            <xsd:element name="pageSize" type="xsd:int"/>
            <xsd:element name="alarms" type="tns:AlarmList"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:element name="FeedbackAlarm">
        <xsd:complexType>
          <xsd:sequence>
{_FEEDBACK_PARAMETERS_XSD}
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:element name="FeedbackAlarmResponse">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="result" type="xsd:string"/>
            <xsd:element name="FKBH" type="xsd:string"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:complexType name="Feedback">
        <xsd:sequence>
{_FEEDBACK_XSD}
        </xsd:sequence>
      </xsd:complexType>
      <xsd:element name="QueryFeedback">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="JJDBH" type="xsd:string"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:element name="QueryFeedbackResponse">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="feedbacks">
              <xsd:complexType>
                <xsd:sequence>
                  <xsd:element name="feedback" type="tns:Feedback" minOccurs="0"
                      maxOccurs="unbounded"/>
                </xsd:sequence>
              </xsd:complexType>
            </xsd:element>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
      <xsd:element name="auth">
        <xsd:complexType>
          <xsd:sequence>
            <xsd:element name="username" type="xsd:string"/>
            <xsd:element name="password" type="xsd:string"/>
          </xsd:sequence>
        </xsd:complexType>
      </xsd:element>
    </xsd:schema>
  </wsdl:types>
{_MESSAGES}
  <wsdl:message name="AuthHeader">
    <wsdl:part name="auth" element="tns:auth"/>
  </wsdl:message>
  <wsdl:portType name="AlarmServicePortType">
{_PORT_OPERATIONS}
  </wsdl:portType>
  <wsdl:binding name="AlarmServiceBinding" type="tns:AlarmServicePortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
{_BINDING_OPERATIONS}
  </wsdl:binding>
  <wsdl:service name="AlarmService">
    <wsdl:port name="AlarmServicePort" binding="tns:AlarmServiceBinding">
      <soap:address location="{{location}}"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"""
