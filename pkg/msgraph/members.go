package msgraph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/xtsync/xtsync/pkg/engine"
)

// The hot listings (member pages, group reads) are decoded from their JSON
// into the few fields the engine reads, not through msgraph-sdk-go's
// models: building kiota's parse tree and the models' backing stores was
// most of a no-change reconcile's CPU and heap. The requests are still
// built by the SDK's request builders and sent through the client's request
// adapter, so sign-in, the middleware, Retry and the Counter see them as
// before, and an error answer becomes the same ODataError (see wrap).
//
// The decoding gives what the SDK's models gave for every answer Graph
// sends (members_test.go compares the two on the emulator and on Graph's
// documented samples). It differs on malformed pages only, which are all
// errors here: the SDK path panicked on an empty body or a null in "value",
// and took a page that is not an object, or an element that is not one,
// for an empty page or a member without an id. (encoding/json also matches
// a key case-insensitively when no field has it exactly, and merges a
// repeated key's objects, where kiota kept the last: Graph sends neither.
// Member pages are read by a scanner of their own, members_decode.go, that
// does as encoding/json did; group pages through encoding/json.)

// graphErrors maps every error status to an ODataError, as the SDK's
// request builders do.
var graphErrors = abstractions.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}

// getJSON sends a GET built by an SDK request builder through the adapter
// and returns the raw body (nil when empty); an error answer is the
// adapter's ODataError.
func (c *Client) getJSON(ctx context.Context, info *abstractions.RequestInformation) ([]byte, error) {
	raw, err := c.adapter.SendPrimitive(ctx, info, "[]byte", graphErrors)
	if err != nil {
		return nil, err
	}
	b, _ := raw.([]byte)
	return b, nil
}

// decodePage streams one collection page ({"value": [...],
// "@odata.nextLink": ...}, in any order, other members skipped): item is
// called for each element of value with dec positioned on it, and must
// decode it. It returns the next link ("" on the last page).
func decodePage(r io.Reader, item func(dec *json.Decoder) error) (string, error) {
	dec := json.NewDecoder(r)
	if err := wantDelim(dec, '{'); err != nil {
		return "", err
	}
	var next string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		switch key, _ := tok.(string); key {
		case "@odata.nextLink":
			if err := dec.Decode(&next); err != nil {
				return "", fmt.Errorf("@odata.nextLink: %w", err)
			}
		case "value":
			if err := decodeValue(dec, item); err != nil {
				return "", err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return "", err
			}
		}
	}
	if err := wantDelim(dec, '}'); err != nil {
		return "", err
	}
	return next, nil
}

// decodeValue reads the value array (null: no elements).
func decodeValue(dec *json.Decoder, item func(*json.Decoder) error) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("value: %w", err)
	}
	if tok == nil {
		return nil
	}
	if d, isDelim := tok.(json.Delim); !isDelim || d != '[' {
		return fmt.Errorf("value: want an array, got %v", tok)
	}
	for i := 0; dec.More(); i++ {
		if err := item(dec); err != nil {
			return fmt.Errorf("value[%d]: %w", i, err)
		}
	}
	if err := wantDelim(dec, ']'); err != nil {
		return fmt.Errorf("value: %w", err)
	}
	return nil
}

// wantDelim reads the next token, which must be d: a body cut short ends in
// io.ErrUnexpectedEOF.
func wantDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	if err != nil {
		return err
	}
	if got, isDelim := tok.(json.Delim); !isDelim || got != d {
		return fmt.Errorf("want %v, got %v", d, tok)
	}
	return nil
}

// errNullElement is a null in a page's value array.
var errNullElement = errors.New("null element")

// memberJSON is a directory object of a member page read with
// memberSelect: the properties of users and groups the engine reads, as
// the page scanner decodes them (members_decode.go). Absent and null read
// as "" (as the SDK's getters read nil).
type memberJSON struct {
	Type              string // @odata.type
	ID                string
	DisplayName       string
	Mail              string
	UserPrincipalName string
	UserType          string
	// Disabled is accountEnabled false (not true, null or absent).
	Disabled bool
	// The mappable attributes besides displayName (attrGetters).
	GivenName      string
	Surname        string
	JobTitle       string
	Department     string
	CompanyName    string
	OfficeLocation string
	// Ext is onPremisesExtensionAttributes (all "" when null).
	Ext extAttrsJSON
}

// attr reads a mappable attribute: the names of attrGetters.
func (o *memberJSON) attr(name string) (string, bool) {
	switch name {
	case "displayName":
		return o.DisplayName, true
	case "givenName":
		return o.GivenName, true
	case "surname":
		return o.Surname, true
	case "jobTitle":
		return o.JobTitle, true
	case "department":
		return o.Department, true
	case "companyName":
		return o.CompanyName, true
	case "officeLocation":
		return o.OfficeLocation, true
	}
	return "", false
}

// extAttrCount is how many extension attributes there are.
const extAttrCount = 15

// extAttrsJSON is onPremisesExtensionAttributes: extensionAttribute1 to 15.
type extAttrsJSON [extAttrCount]string

// get reads one attribute by name ("" for a name that is none of them, as
// attrValue).
func (e *extAttrsJSON) get(name string) string {
	if i := extIndex(name); i >= 0 {
		return e[i]
	}
	return ""
}

// The @odata.type values the SDK's directoryObject discriminator turns into
// its user and group models (exact, case-sensitive matches).
const (
	odataUser  = "#microsoft.graph.user"
	odataGroup = "#microsoft.graph.group"
)

// memberOf converts a decoded member as UserSchema.member converts the
// SDK's model: users carry their properties, Disabled, the mapped
// attributes (an empty map when none) and on the target the link; groups
// their displayName; other objects only their id.
func (s UserSchema) memberOf(o *memberJSON, target bool) engine.Member {
	m := engine.Member{ID: strings.ToLower(o.ID), Type: engine.TypeOther}
	switch o.Type {
	case odataUser:
		m.Type = engine.TypeUser
		m.DisplayName, m.Mail, m.UserPrincipalName, m.UserType = o.DisplayName, o.Mail, o.UserPrincipalName, o.UserType
		m.Disabled = o.Disabled
		m.Attrs = make(map[string]string, len(s.Attributes))
		for _, a := range s.Attributes {
			if v, known := o.attr(a); known {
				m.Attrs[a] = v
			}
		}
		if target {
			m.Link = o.Ext.get(s.link())
		}
	case odataGroup:
		m.Type = engine.TypeGroup
		m.DisplayName = o.DisplayName
	}
	return m
}

// decodeMemberPage decodes one member page read with the schema's select,
// appending its members to out; it returns them and the next link.
func (s UserSchema) decodeMemberPage(r io.Reader, target bool, out []engine.Member) ([]engine.Member, string, error) {
	var next string
	err := readWhole(r, func(body []byte) error {
		sc := pageScanner{data: body}
		var o memberJSON
		var err error
		next, err = sc.page(func() error {
			o = memberJSON{}
			if err := sc.member(&o); err != nil {
				return err
			}
			out = append(out, s.memberOf(&o, target))
			return nil
		})
		return err
	})
	return out, next, err
}

// groupJSON is a group read with groupSelect.
type groupJSON struct {
	ID              string   `json:"id"`
	DisplayName     string   `json:"displayName"`
	Description     string   `json:"description"`
	MailNickname    string   `json:"mailNickname"`
	MailEnabled     bool     `json:"mailEnabled"`
	SecurityEnabled bool     `json:"securityEnabled"`
	GroupTypes      []string `json:"groupTypes"`
	// CreatedDateTime is parsed as kiota parses a DateTimeOffset.
	CreatedDateTime *string `json:"createdDateTime"`
}

// group converts a decoded group as toGroup converts the SDK's model.
func (g *groupJSON) group() (engine.Group, error) {
	out := engine.Group{
		ID: strings.ToLower(g.ID), DisplayName: g.DisplayName, Description: g.Description,
		MailNickname: g.MailNickname, MailEnabled: g.MailEnabled, SecurityEnabled: g.SecurityEnabled, GroupTypes: g.GroupTypes,
	}
	if g.CreatedDateTime != nil {
		t, err := parseDateTime(*g.CreatedDateTime)
		if err != nil {
			return engine.Group{}, fmt.Errorf("group %s: createdDateTime: %w", g.ID, err)
		}
		out.Created = t
	}
	return out, nil
}

// parseDateTime reads an Edm.DateTimeOffset as kiota's JSON parse node does
// (GetTimeValue): RFC 3339, a value without an offset taken in the local
// zone.
func parseDateTime(v string) (time.Time, error) {
	if len(v) == 19 {
		v += time.Now().Format("-07:00")
	}
	return time.Parse(time.RFC3339, v)
}

// decodeGroupPage decodes one page of groups, appending them to out; it
// returns them and the next link.
func decodeGroupPage(r io.Reader, out []engine.Group) ([]engine.Group, string, error) {
	var p *groupJSON
	next, err := decodePage(r, func(dec *json.Decoder) error {
		p = &groupJSON{}
		if err := dec.Decode(&p); err != nil {
			return err
		}
		if p == nil {
			return errNullElement
		}
		g, err := p.group()
		if err != nil {
			return err
		}
		out = append(out, g)
		return nil
	})
	return out, next, err
}
