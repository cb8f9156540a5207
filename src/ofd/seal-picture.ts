// The picture of an electronic seal, for drawing a stamp: SES_ESPictrueInfo (GB/T 38540-2020
// §5.2, GM/T 0031-2014 §6.1.1) sits fourth in SES_SealInfo, which is the first element of SESeal
// in every version (v1, v4, v5), and the seal itself is the second element of TBS_Sign, the first
// of SES_Signature. Only this path is walked here; decoding and verifying a seal is the signing
// engine's (src/signing), and this reads no more than where the picture is.
import * as asn1js from 'asn1js';

export interface SealPicture {
  /** As the seal states it: PNG, JPG, GIF, BMP, SVG, OFD … (upper-cased). */
  type: string;
  data: Uint8Array;
  /** Display size in millimetres. */
  widthMm: number;
  heightMm: number;
}

function elements(node: asn1js.AsnType | undefined): asn1js.AsnType[] | undefined {
  return node instanceof asn1js.Sequence ? (node.valueBlock.value as asn1js.AsnType[]) : undefined;
}

function pictureOfSeal(seal: asn1js.AsnType | undefined): SealPicture | undefined {
  const sealInfo = elements(elements(seal)?.[0]);
  const picture = elements(sealInfo?.[3]);
  if (!picture || picture.length < 4) return undefined;
  const [type, data, width, height] = picture;
  if (
    !(data instanceof asn1js.OctetString) ||
    !(width instanceof asn1js.Integer) ||
    !(height instanceof asn1js.Integer)
  )
    return undefined;
  const typeText =
    type instanceof asn1js.IA5String || type instanceof asn1js.PrintableString || type instanceof asn1js.Utf8String
      ? type.valueBlock.value
      : '';
  return {
    type: typeText.trim().toUpperCase(),
    data: new Uint8Array(data.valueBlock.valueHexView),
    widthMm: width.valueBlock.valueDec,
    heightMm: height.valueBlock.valueDec,
  };
}

function parse(der: Uint8Array): asn1js.AsnType | undefined {
  const parsed = asn1js.fromBER(der);
  return parsed.offset === -1 ? undefined : parsed.result;
}

/** The picture of a seal file (Seal.esl, DER SESeal), undefined when it is not one. */
export function sealPictureOfSeal(der: Uint8Array): SealPicture | undefined {
  return pictureOfSeal(parse(der));
}

/** The picture of the seal inside a seal signature (SignedValue.dat, DER SES_Signature), undefined when it is not one. */
export function sealPictureOfSignature(der: Uint8Array): SealPicture | undefined {
  return pictureOfSeal(elements(elements(parse(der))?.[0])?.[1]);
}
