// The ASN.1 of electronic seals and seal signatures, declared on @peculiar/asn1-schema as asn1.ts
// does for CMS: GB/T 38540-2020 §6.1 and §7.1 ("v4"), GM/T 0031-2014 §6.1.1 and §6.2.1 ("v1"),
// and GM/T 0031-2025 ("v5": v4 plus a time-stamp [0] on the seal). Field names follow the
// standards (including their spelling "Pictrue"). The signed parts (SES_SealInfo, TBS_Sign) are
// kept as the bytes that were signed (`raw`), never re-encoded before a signature is checked.
import { AsnArray, AsnPropTypes, AsnType, AsnTypeTypes, BitString, OctetString } from '@peculiar/asn1-schema';
import { Time } from '@peculiar/asn1-x509';
import { RawElement, declareSchema } from '../asn1.js';

/** SES_Header ::= SEQUENCE { ID IA5String ("ES"), version INTEGER, Vid IA5String } */
export class SesHeader {
  id = 'ES';
  version = 4;
  vid = '';
  constructor(params: Partial<SesHeader> = {}) {
    Object.assign(this, params);
  }
}
declareSchema(SesHeader, [
  ['id', { type: AsnPropTypes.IA5String }],
  ['version', { type: AsnPropTypes.Integer }],
  ['vid', { type: AsnPropTypes.IA5String }],
]);

/** ExtData ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
export class ExtData {
  extnID = '';
  critical = false;
  extnValue = new OctetString();
  constructor(params: Partial<ExtData> = {}) {
    Object.assign(this, params);
  }
}
declareSchema(ExtData, [
  ['extnID', { type: AsnPropTypes.ObjectIdentifier }],
  ['critical', { type: AsnPropTypes.Boolean, defaultValue: false }],
  ['extnValue', { type: OctetString }],
]);

/** ExtensionDatas ::= SEQUENCE SIZE (0..MAX) OF ExtData */
export class ExtensionDatas extends AsnArray<ExtData> {
  constructor(items?: ExtData[]) {
    super(items);
    Object.setPrototypeOf(this, ExtensionDatas.prototype);
  }
}
AsnType({ type: AsnTypeTypes.Sequence, itemType: ExtData })(ExtensionDatas);

/** CertInfoList ::= SEQUENCE OF Cert; Cert ::= OCTET STRING (a DER certificate) */
export class CertInfoList extends AsnArray<OctetString> {
  constructor(items?: OctetString[]) {
    super(items);
    Object.setPrototypeOf(this, CertInfoList.prototype);
  }
}
AsnType({ type: AsnTypeTypes.Sequence, itemType: OctetString })(CertInfoList);

/** CertDigestObj ::= SEQUENCE { type PrintableString, value OCTET STRING } */
export class CertDigestObj {
  type = '';
  value = new OctetString();
  constructor(params: Partial<CertDigestObj> = {}) {
    Object.assign(this, params);
  }
}
declareSchema(CertDigestObj, [
  ['type', { type: AsnPropTypes.PrintableString }],
  ['value', { type: OctetString }],
]);

/** CertDigestList ::= SEQUENCE OF CertDigestObj */
export class CertDigestList extends AsnArray<CertDigestObj> {
  constructor(items?: CertDigestObj[]) {
    super(items);
    Object.setPrototypeOf(this, CertDigestList.prototype);
  }
}
AsnType({ type: AsnTypeTypes.Sequence, itemType: CertDigestObj })(CertDigestList);

/**
 * SES_ESPropertyInfo (v4/v5). SES_CertList is a CHOICE of two SEQUENCE OFs that share a tag,
 * so certListType says which one it is: the list stays an element here and is decoded after.
 * Dates are GeneralizedTime in the standard; Time also reads a UTCTime some producers write.
 */
export class PropertyInfoV4 {
  type = 0;
  name = '';
  certListType = 1;
  certList = new RawElement();
  createDate = new Time();
  validStart = new Time();
  validEnd = new Time();
  constructor(params: Partial<PropertyInfoV4> = {}) {
    Object.assign(this, params);
  }
}
declareSchema(PropertyInfoV4, [
  ['type', { type: AsnPropTypes.Integer }],
  ['name', { type: AsnPropTypes.Utf8String }],
  ['certListType', { type: AsnPropTypes.Integer }],
  ['certList', { type: RawElement }],
  ['createDate', { type: Time }],
  ['validStart', { type: Time }],
  ['validEnd', { type: Time }],
]);

/** SES_ESPropertyInfo (v1): certList SEQUENCE OF OCTET STRING, dates UTCTime (GeneralizedTime read too). */
export class PropertyInfoV1 {
  type = 0;
  name = '';
  certList = new CertInfoList();
  createDate = new Time();
  validStart = new Time();
  validEnd = new Time();
}
declareSchema(PropertyInfoV1, [
  ['type', { type: AsnPropTypes.Integer }],
  ['name', { type: AsnPropTypes.Utf8String }],
  ['certList', { type: CertInfoList }],
  ['createDate', { type: Time }],
  ['validStart', { type: Time }],
  ['validEnd', { type: Time }],
]);

/** SES_ESPictrueInfo ::= SEQUENCE { type IA5String, data OCTET STRING, width INTEGER, height INTEGER } (mm) */
export class PictureInfo {
  type = '';
  data = new OctetString();
  width = 0;
  height = 0;
  constructor(params: Partial<PictureInfo> = {}) {
    Object.assign(this, params);
  }
}
declareSchema(PictureInfo, [
  ['type', { type: AsnPropTypes.IA5String }],
  ['data', { type: OctetString }],
  ['width', { type: AsnPropTypes.Integer }],
  ['height', { type: AsnPropTypes.Integer }],
]);

/** SES_SealInfo (v4/v5): header, esID, property, picture, extDatas (untagged, as ofdrw writes it). */
export class SealInfoV4 {
  header = new SesHeader();
  esID = '';
  property = new PropertyInfoV4();
  picture = new PictureInfo();
  extDatas?: ExtensionDatas;
  constructor(params: Partial<SealInfoV4> = {}) {
    Object.assign(this, params);
  }
}
declareSchema(SealInfoV4, [
  ['header', { type: SesHeader }],
  ['esID', { type: AsnPropTypes.IA5String }],
  ['property', { type: PropertyInfoV4 }],
  ['picture', { type: PictureInfo }],
  ['extDatas', { type: ExtensionDatas, optional: true }],
]);

/** SES_SealInfo (v1); extDatas is EXPLICIT in the 2014 text, and read either way. */
export class SealInfoV1 {
  header = new SesHeader();
  esID = '';
  property = new PropertyInfoV1();
  picture = new PictureInfo();
  extDatas?: ExtensionDatas;
  extDatasTagged?: ExtensionDatas;
}
declareSchema(SealInfoV1, [
  ['header', { type: SesHeader }],
  ['esID', { type: AsnPropTypes.IA5String }],
  ['property', { type: PropertyInfoV1 }],
  ['picture', { type: PictureInfo }],
  ['extDatas', { type: ExtensionDatas, optional: true }],
  ['extDatasTagged', { type: ExtensionDatas, context: 0, implicit: false, optional: true }],
]);

/** SESeal (v4; v5 adds timeStamp [0] EXPLICIT BIT STRING over signedValue). */
export class SealV4 {
  eSealInfo = new SealInfoV4();
  /** The SES_SealInfo exactly as signed (set when parsed). */
  eSealInfoRaw?: ArrayBuffer;
  cert = new OctetString();
  signAlgID = '';
  signedValue = new BitString();
  timeStamp?: BitString;
  constructor(params: Partial<SealV4> = {}) {
    Object.assign(this, params);
  }
}
declareSchema(SealV4, [
  ['eSealInfo', { type: SealInfoV4, raw: true }],
  ['cert', { type: OctetString }],
  ['signAlgID', { type: AsnPropTypes.ObjectIdentifier }],
  ['signedValue', { type: BitString }],
  ['timeStamp', { type: BitString, context: 0, implicit: false, optional: true }],
]);

/** SES_SignInfo (v1) ::= SEQUENCE { cert OCTET STRING, signatureAlgorithm OID, signData BIT STRING } */
export class SignInfoV1 {
  cert = new OctetString();
  signatureAlgorithm = '';
  signData = new BitString();
}
declareSchema(SignInfoV1, [
  ['cert', { type: OctetString }],
  ['signatureAlgorithm', { type: AsnPropTypes.ObjectIdentifier }],
  ['signData', { type: BitString }],
]);

/** SESeal (v1) ::= SEQUENCE { esealInfo SES_SealInfo, signInfo SES_SignInfo } */
export class SealV1 {
  esealInfo = new SealInfoV1();
  esealInfoRaw?: ArrayBuffer;
  signInfo = new SignInfoV1();
}
declareSchema(SealV1, [
  ['esealInfo', { type: SealInfoV1, raw: true }],
  ['signInfo', { type: SignInfoV1 }],
]);

/**
 * TBS_Sign (v4/v5): the seal rides inside as the bytes that came (RawElement), so the signature
 * over TBS_Sign and the maker's signature inside the seal are both checked on what was signed.
 */
export class TbsSignV4 {
  version = 4;
  eseal = new RawElement();
  timeInfo = new Date();
  dataHash = new BitString();
  propertyInfo = '';
  extDatas?: ExtensionDatas;
  constructor(params: Partial<TbsSignV4> = {}) {
    Object.assign(this, params);
  }
}
declareSchema(TbsSignV4, [
  ['version', { type: AsnPropTypes.Integer }],
  ['eseal', { type: RawElement }],
  ['timeInfo', { type: AsnPropTypes.GeneralizedTime }],
  ['dataHash', { type: BitString }],
  ['propertyInfo', { type: AsnPropTypes.IA5String }],
  ['extDatas', { type: ExtensionDatas, context: 0, implicit: false, optional: true }],
]);

/** SES_Signature (v4/v5) ::= SEQUENCE { toSign, cert, signatureAlgID, signature, timeStamp [0] EXPLICIT BIT STRING OPTIONAL } */
export class SesSignatureV4 {
  toSign = new TbsSignV4();
  toSignRaw?: ArrayBuffer;
  cert = new OctetString();
  signatureAlgID = '';
  signature = new BitString();
  timeStamp?: BitString;
  constructor(params: Partial<SesSignatureV4> = {}) {
    Object.assign(this, params);
  }
}
declareSchema(SesSignatureV4, [
  ['toSign', { type: TbsSignV4, raw: true }],
  ['cert', { type: OctetString }],
  ['signatureAlgID', { type: AsnPropTypes.ObjectIdentifier }],
  ['signature', { type: BitString }],
  ['timeStamp', { type: BitString, context: 0, implicit: false, optional: true }],
]);
