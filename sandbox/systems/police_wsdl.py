"""The WSDL of the simulated 110 接处警平台 AlarmService (SOAP 1.1, document/literal)."""

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
  <wsdl:message name="QueryAlarmsRequest">
    <wsdl:part name="parameters" element="tns:QueryAlarms"/>
  </wsdl:message>
  <wsdl:message name="QueryAlarmsResponse">
    <wsdl:part name="parameters" element="tns:QueryAlarmsResponse"/>
  </wsdl:message>
  <wsdl:message name="AuthHeader">
    <wsdl:part name="auth" element="tns:auth"/>
  </wsdl:message>
  <wsdl:portType name="AlarmServicePortType">
    <wsdl:operation name="QueryAlarms">
      <wsdl:input message="tns:QueryAlarmsRequest"/>
      <wsdl:output message="tns:QueryAlarmsResponse"/>
    </wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="AlarmServiceBinding" type="tns:AlarmServicePortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="QueryAlarms">
      <soap:operation soapAction="{NAMESPACE}/QueryAlarms" style="document"/>
      <wsdl:input>
        <soap:header message="tns:AuthHeader" part="auth" use="literal"/>
        <soap:body use="literal"/>
      </wsdl:input>
      <wsdl:output><soap:body use="literal"/></wsdl:output>
    </wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="AlarmService">
    <wsdl:port name="AlarmServicePort" binding="tns:AlarmServiceBinding">
      <soap:address location="{{location}}"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"""
