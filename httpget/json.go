package httpget

import (
	"encoding/base64"
	"encoding/json"
	"unicode/utf8"
)

// MarshalJSON adds the exact head and the body preview: as text when they
// are valid UTF-8, else base64 (*_base64), so no byte is lost or altered.
func (r *Response) MarshalJSON() ([]byte, error) {
	type plain Response
	v := struct {
		*plain
		RawHead       *string `json:"raw_head,omitempty"`
		RawHeadBase64 *string `json:"raw_head_base64,omitempty"`
		Body          *string `json:"body,omitempty"`
		BodyBase64    *string `json:"body_base64,omitempty"`
		RawBody       *string `json:"raw_body,omitempty"`
		RawBodyBase64 *string `json:"raw_body_base64,omitempty"`
		RawBodyCut    bool    `json:"raw_body_truncated,omitempty"`
	}{plain: (*plain)(r), RawBodyCut: r.RawCut}
	v.RawHead, v.RawHeadBase64 = textOrBase64(r.RawHead)
	v.Body, v.BodyBase64 = textOrBase64(r.Body)
	if len(r.Raw) > len(r.RawHead) {
		v.RawBody, v.RawBodyBase64 = textOrBase64(r.Raw[len(r.RawHead):])
	}
	return json.Marshal(v)
}

// MarshalJSON adds the request exactly as sent.
func (x *Exchange) MarshalJSON() ([]byte, error) {
	type plain Exchange
	v := struct {
		*plain
		RawRequest       *string `json:"raw_request,omitempty"`
		RawRequestBase64 *string `json:"raw_request_base64,omitempty"`
	}{plain: (*plain)(x)}
	v.RawRequest, v.RawRequestBase64 = textOrBase64(x.RawRequest)
	return json.Marshal(v)
}

func textOrBase64(b []byte) (*string, *string) {
	if len(b) == 0 {
		return nil, nil
	}
	s := string(b)
	if utf8.Valid(b) {
		return &s, nil
	}
	e := base64.StdEncoding.EncodeToString(b)
	return nil, &e
}
