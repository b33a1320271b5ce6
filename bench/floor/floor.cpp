// The practical floor for bench/roles.rules: `floor [--dom] EVENTS.jsonl EXPECTED.txt`.
//
// Two floors, one program: the same ten rules on the same Fields struct, only the way the fields are extracted
// differs. The default is simdjson On-Demand, the fastest way we know to decide an event; --dom is simdjson's DOM
// parser, the fastest *fully validating* parser we know, for context (see "--dom" below).
//
// Plain C++17 against Debian's libsimdjson-dev (3.0.1): every line is parsed with simdjson On-Demand (one parser,
// reused; the file is read into one padded buffer and each line is iterated in place, with the SIMDJSON_PADDING
// bytes after it readable), only the eight fields the ten rules read are looked up, and the rules are written by
// hand. It checks every decision against EXPECTED.txt (sorted, comma-joined roles per line; a mismatch fails),
// then prints one JSON object, like rolecall-bench does:
//
//   full_us_per_event       parse + read the fields + evaluate + build the sorted role list (best of 7 passes)
//   read_us_per_event       parse + read the fields into a struct only (best of 7)
//   preparsed_us_per_event  the rules on fields already in the struct: rolecall-bench's method, each event read
//                           once and then the rules run 20 times, minus the read-only pass, over 20 x events
//
// rolecall-bench's full figure also writes the decision line; the floor only builds the sorted role list (the
// decision line is a few memcpys of pre-quoted names, and it reads authorization.roles, which no rule here does).
//
// Build: g++ -std=c++17 -O3 floor.cpp -lsimdjson, without -march, on purpose. simdjson 3.0.1 picks stage 1 (the
// SIMD structural indexing of the whole line, most of the parsing work) at run time even for On-Demand:
// ondemand::parser::allocate asks get_active_implementation() for it (icelake, AVX-512, on this machine). Only the
// inline navigation and string unescaping are compiled for SIMDJSON_BUILTIN_IMPLEMENTATION, which comes from the
// compiler's target flags: `fallback` without -march, `icelake` with -march=native. Measured on the 20,000-event
// workloads, pinned to one core: 0.73-0.77 us/event either way (events are short strings; there is nothing wide to
// unescape), so the portable build is the floor and it is no slower. The JSON names both ("stage1", "ondemand";
// "parser" is the mode); `make bench FLOOR_FLAGS=-march=native` builds the other.
//
// The rules keep the engine's semantics (README, "Semantics"), with an evaluation error counting as "the rule does
// not fire", which is all a role list can show:
//   - a missing field is null; `==` and `in [...]` are deep equality (numbers by value, so 1.0 == 1; no error on
//     a type difference); `<`, `>=` on a null side are false, on any other non-number an error;
//   - `"x" in L`: L null -> false, L not a list -> error, else some element is the string "x";
//   - `matches` on null is false, on a non-string an error; a boolean position takes true/false, null is false
//     (`not null` is true), anything else is an error;
//   - the regexes are PCRE2 without options, so `$` also matches before a final "\n": /@acme\.com$/ is "ends with
//     @acme.com, or with @acme.com\n", and /(iPhone|Android)/ is "contains iPhone or Android" (case-sensitive).
//     Strings are compared unescaped (simdjson's get_string), so "iPhon\u0065" is "iPhone", as in the engine.
// What this floor does not do that the engine does: refuse a key repeated in an object, hold numbers and strings
// to I-JSON, and fully validate the parts of an event no rule reads (On-Demand skips them; its stage 1 still
// checks UTF-8 and the structure of the whole line).
//
// --dom: the same, but each line goes through dom::parser (reused, parsing in place like On-Demand), which builds
// the whole tape and so validates the whole event, as Rolecall's reader does: every string's escapes (UTF-8 is
// stage 1's, for both modes), every number parsed, every literal spelled out, the grammar everywhere, the nesting
// depth. On-Demand only validates what it visits, and the rules visit eight fields of a 1-2 KB event, so the
// On-Demand ratio alone mixes two things: what Rolecall does that it does not need to, and what it does because
// it validates everything. The DOM figure is the second's price at simdjson's speed. Both stages of a DOM parse
// are compiled into libsimdjson and picked at run time (icelake here), so -march changes only the lookups. The
// fields are then found with dom::object::at_key (a linear scan of the keys, first match; like
// find_field_unordered, but on unescaped keys). Still not done: repeated keys, I-JSON.
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

using namespace simdjson;

namespace {

enum class Kind : uint8_t { null, boolean, number, string, list, other };

struct Value {
  Kind kind = Kind::null;
  bool boolean = false;
  double number = 0;
  std::string_view string;
};

// The fields the ten rules read, as the parser found them (either mode). Strings point into the parser's string
// buffer, valid until the next event is parsed.
struct Fields {
  Value logins;    // stats.logins_count
  Value email;     // user.email
  Value verified;  // user.email_verified
  Value country;   // request.geoip.countryCode
  Value strategy;  // connection.strategy
  Value agent;     // request.user_agent
  Value plan;      // user.app_metadata.plan
  Kind groupsKind = Kind::null;         // user.app_metadata.groups
  std::vector<std::string_view> groups;  // its string elements (no other element can equal a string)
};

// Reads `value` as one of the kinds above. Errors (malformed JSON) are returned.
error_code readValue(ondemand::value value, Value &out) {
  ondemand::json_type type;
  if (auto error = value.type().get(type)) return error;
  switch (type) {
    case ondemand::json_type::null:
      out.kind = Kind::null;
      return SUCCESS;
    case ondemand::json_type::boolean:
      out.kind = Kind::boolean;
      return value.get_bool().get(out.boolean);
    case ondemand::json_type::number:
      out.kind = Kind::number;
      return value.get_double().get(out.number);
    case ondemand::json_type::string:
      out.kind = Kind::string;
      return value.get_string().get(out.string);
    case ondemand::json_type::array:
      out.kind = Kind::list;
      return SUCCESS;
    default:
      out.kind = Kind::other;
      return SUCCESS;
  }
}

// Looks `key` up in `object` (any key order; in document order it is one forward scan) and reads it; a missing
// key is null.
error_code field(ondemand::object &object, std::string_view key, Value &out) {
  ondemand::value value;
  auto error = object.find_field_unordered(key).get(value);
  if (error == NO_SUCH_FIELD) {
    out.kind = Kind::null;
    return SUCCESS;
  }
  if (error) return error;
  return readValue(value, out);
}

// Looks up an object-valued member; `found` is false when it is missing or not an object (every field under it is
// then null).
error_code child(ondemand::object &object, std::string_view key, ondemand::object &out, bool &found) {
  ondemand::value value;
  found = false;
  auto error = object.find_field_unordered(key).get(value);
  if (error == NO_SUCH_FIELD) return SUCCESS;
  if (error) return error;
  ondemand::json_type type;
  if ((error = value.type().get(type))) return error;
  if (type != ondemand::json_type::object) return SUCCESS;
  found = true;
  return value.get_object().get(out);
}

// Parses one event and reads the eight fields, in the order the generators write them (connection, request,
// stats, user), so every lookup is a forward scan.
error_code extract(ondemand::parser &parser, const char *line, size_t length, Fields &f) {
  f.logins = f.email = f.verified = f.country = f.strategy = f.agent = f.plan = Value{};
  f.groupsKind = Kind::null;
  f.groups.clear();
  ondemand::document document;
  if (auto error = parser.iterate(line, length, length + SIMDJSON_PADDING).get(document)) return error;
  ondemand::object root;
  if (auto error = document.get_object().get(root)) return error;
  ondemand::object object, inner;
  bool found;
  if (auto error = child(root, "connection", object, found)) return error;
  if (found)
    if (auto error = field(object, "strategy", f.strategy)) return error;
  if (auto error = child(root, "request", object, found)) return error;
  if (found) {
    if (auto error = field(object, "user_agent", f.agent)) return error;
    if (auto error = child(object, "geoip", inner, found)) return error;
    if (found)
      if (auto error = field(inner, "countryCode", f.country)) return error;
  }
  if (auto error = child(root, "stats", object, found)) return error;
  if (found)
    if (auto error = field(object, "logins_count", f.logins)) return error;
  if (auto error = child(root, "user", object, found)) return error;
  if (found) {
    if (auto error = field(object, "email", f.email)) return error;
    if (auto error = field(object, "email_verified", f.verified)) return error;
    if (auto error = child(object, "app_metadata", inner, found)) return error;
    if (found) {
      ondemand::value groups;
      auto error = inner.find_field_unordered("groups").get(groups);
      if (error && error != NO_SUCH_FIELD) return error;
      if (!error) {
        Value kind;
        if ((error = readValue(groups, kind))) return error;
        f.groupsKind = kind.kind;
        if (kind.kind == Kind::list) {
          ondemand::array array;
          if ((error = groups.get_array().get(array))) return error;
          for (auto element : array) {
            Value item;
            ondemand::value elementValue;
            if ((error = element.get(elementValue))) return error;
            if ((error = readValue(elementValue, item))) return error;
            if (item.kind == Kind::string) f.groups.push_back(item.string);
          }
        }
      }
      if ((error = field(inner, "plan", f.plan))) return error;
    }
  }
  return SUCCESS;
}

// The same extraction from a DOM. The whole line has been parsed and validated by then; what is left is walking
// the tape, so none of these lookups can fail on malformed JSON, only on a wrong type, which is read as "not
// there" exactly like above.
void readValue(dom::element value, Value &out) {
  switch (value.type()) {
    case dom::element_type::NULL_VALUE:
      out.kind = Kind::null;
      return;
    case dom::element_type::BOOL:
      out.kind = Kind::boolean;
      out.boolean = value.get_bool().value_unsafe();
      return;
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE:  // numbers by value: 1 and 1.0 are both the double 1, as in the engine
      out.kind = Kind::number;
      out.number = value.get_double().value_unsafe();
      return;
    case dom::element_type::STRING:
      out.kind = Kind::string;
      out.string = value.get_string().value_unsafe();
      return;
    case dom::element_type::ARRAY:
      out.kind = Kind::list;
      return;
    default:
      out.kind = Kind::other;
      return;
  }
}

void field(dom::object object, std::string_view key, Value &out) {
  dom::element value;
  if (object.at_key(key).get(value)) {  // NO_SUCH_FIELD is the only error at_key has
    out.kind = Kind::null;
    return;
  }
  readValue(value, out);
}

bool child(dom::object object, std::string_view key, dom::object &out) {
  dom::element value;
  return !object.at_key(key).get(value) && !value.get_object().get(out);
}

// Parses (and validates) the whole event, then reads the eight fields. Strings point into the parser's document,
// valid until the next event is parsed.
error_code extract(dom::parser &parser, const char *line, size_t length, Fields &f) {
  f.logins = f.email = f.verified = f.country = f.strategy = f.agent = f.plan = Value{};
  f.groupsKind = Kind::null;
  f.groups.clear();
  dom::element document;
  // realloc_if_needed = false: the line is followed by readable bytes (see main), so no copy into a padded buffer.
  if (auto error = parser.parse(line, length, false).get(document)) return error;
  dom::object root, object, inner;
  if (auto error = document.get_object().get(root)) return error;
  if (child(root, "connection", object)) field(object, "strategy", f.strategy);
  if (child(root, "request", object)) {
    field(object, "user_agent", f.agent);
    if (child(object, "geoip", inner)) field(inner, "countryCode", f.country);
  }
  if (child(root, "stats", object)) field(object, "logins_count", f.logins);
  if (child(root, "user", object)) {
    field(object, "email", f.email);
    field(object, "email_verified", f.verified);
    if (child(object, "app_metadata", inner)) {
      dom::element groups;
      if (!inner.at_key("groups").get(groups)) {
        Value kind;
        readValue(groups, kind);
        f.groupsKind = kind.kind;
        dom::array array;
        if (kind.kind == Kind::list && !groups.get_array().get(array))
          for (dom::element element : array) {
            Value item;
            readValue(element, item);
            if (item.kind == Kind::string) f.groups.push_back(item.string);
          }
      }
      field(inner, "plan", f.plan);
    }
  }
  return SUCCESS;
}

// --all: On-Demand again, but visiting every value of the event, so that On-Demand checks all of it as the DOM
// parser does: every key and string unescaped (get_string, unescaped_key), every number parsed (get_double),
// every literal spelled out, the grammar and nesting everywhere (UTF-8 is stage 1's, as in both other modes). No
// tape is written and each value is looked at once, in document order, while the fields the rules read are
// picked up on the way. (simdjson 3.0.1's On-Demand has no public check for bytes after the root value; like the
// default mode, this one does not look for them.) The cheapest full validation simdjson offers, so the price of validating everything
// apart from the price of a DOM.
struct WalkParser {
  ondemand::parser parser;
};

// The field tree of the ten rules: what to do with the members of the object a walk is in.
enum class Slot : uint8_t { none, logins, email, verified, country, strategy, agent, plan, groups };
struct Node {
  std::string_view key;
  Slot slot;              // the field this member is, or none
  const Node *children;   // its own members of interest, when it is an object (or nullptr)
};
constexpr Node end{{}, Slot::none, nullptr};
constexpr Node geoip[] = {{"countryCode", Slot::country, nullptr}, end};
constexpr Node request[] = {{"user_agent", Slot::agent, nullptr}, {"geoip", Slot::none, geoip}, end};
constexpr Node appMetadata[] = {{"groups", Slot::groups, nullptr}, {"plan", Slot::plan, nullptr}, end};
constexpr Node user[] = {{"email", Slot::email, nullptr}, {"email_verified", Slot::verified, nullptr},
                         {"app_metadata", Slot::none, appMetadata}, end};
constexpr Node connection[] = {{"strategy", Slot::strategy, nullptr}, end};
constexpr Node stats[] = {{"logins_count", Slot::logins, nullptr}, end};
constexpr Node root[] = {{"connection", Slot::none, connection}, {"request", Slot::none, request},
                         {"stats", Slot::none, stats}, {"user", Slot::none, user}, end};

Value *slotIn(Fields &f, Slot slot) {
  switch (slot) {
    case Slot::logins: return &f.logins;
    case Slot::email: return &f.email;
    case Slot::verified: return &f.verified;
    case Slot::country: return &f.country;
    case Slot::strategy: return &f.strategy;
    case Slot::agent: return &f.agent;
    case Slot::plan: return &f.plan;
    default: return nullptr;
  }
}

// Visits `value` and everything in it. `members` (or nullptr) says which of an object's members are fields;
// `slot` is the field `value` itself is, if any.
error_code walk(ondemand::value value, const Node *members, Slot slot, Fields &f) {
  ondemand::json_type type;
  if (auto error = value.type().get(type)) return error;
  Value *out = slotIn(f, slot);
  if (slot == Slot::groups)
    f.groupsKind = type == ondemand::json_type::array ? Kind::list
                   : type == ondemand::json_type::null ? Kind::null : Kind::other;
  switch (type) {
    case ondemand::json_type::object: {
      if (out) out->kind = Kind::other;
      ondemand::object object;
      if (auto error = value.get_object().get(object)) return error;
      for (auto member : object) {
        ondemand::field field;
        if (auto error = std::move(member).get(field)) return error;
        std::string_view key;
        if (auto error = field.unescaped_key().get(key)) return error;
        const Node *child = members;
        while (child && !child->key.empty() && child->key != key) child++;
        bool found = child && !child->key.empty();
        if (auto error = walk(field.value(), found ? child->children : nullptr, found ? child->slot : Slot::none, f))
          return error;
      }
      return SUCCESS;
    }
    case ondemand::json_type::array: {
      if (out) out->kind = Kind::list;
      ondemand::array array;
      if (auto error = value.get_array().get(array)) return error;
      for (auto element : array) {
        ondemand::value item;
        if (auto error = element.get(item)) return error;
        if (slot == Slot::groups) {
          ondemand::json_type itemType;
          if (auto error = item.type().get(itemType)) return error;
          if (itemType == ondemand::json_type::string) {
            std::string_view name;
            if (auto error = item.get_string().get(name)) return error;
            f.groups.push_back(name);
            continue;
          }
        }
        if (auto error = walk(item, nullptr, Slot::none, f)) return error;
      }
      return SUCCESS;
    }
    case ondemand::json_type::string: {
      std::string_view string;
      if (auto error = value.get_string().get(string)) return error;
      if (out) *out = Value{Kind::string, false, 0, string};
      return SUCCESS;
    }
    case ondemand::json_type::number: {
      double number;
      if (auto error = value.get_double().get(number)) return error;
      if (out) *out = Value{Kind::number, false, number, {}};
      return SUCCESS;
    }
    case ondemand::json_type::boolean: {
      bool boolean;
      if (auto error = value.get_bool().get(boolean)) return error;
      if (out) *out = Value{Kind::boolean, boolean, 0, {}};
      return SUCCESS;
    }
    default: {
      bool null;
      if (auto error = value.is_null().get(null)) return error;
      if (!null) return INCORRECT_TYPE;
      if (out) out->kind = Kind::null;
      return SUCCESS;
    }
  }
}

error_code extract(WalkParser &walker, const char *line, size_t length, Fields &f) {
  f.logins = f.email = f.verified = f.country = f.strategy = f.agent = f.plan = Value{};
  f.groupsKind = Kind::null;
  f.groups.clear();
  ondemand::document document;
  if (auto error = walker.parser.iterate(line, length, length + SIMDJSON_PADDING).get(document)) return error;
  ondemand::value top;
  if (auto error = document.get_value().get(top)) return error;
  return walk(top, root, Slot::none, f);
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && std::memcmp(s.data() + s.size() - suffix.size(), suffix.data(), suffix.size()) == 0;
}

// PCRE2's `$` (no options): at the very end, or before a "\n" that is the last character.
bool endsAtDollar(std::string_view s, std::string_view literal) {
  if (!s.empty() && s.back() == '\n' && endsWith(s.substr(0, s.size() - 1), literal)) return true;
  return endsWith(s, literal);
}

bool contains(std::string_view s, std::string_view needle) { return s.find(needle) != std::string_view::npos; }

// Outcomes of a condition: false, true, or an evaluation error (the rule does not fire).
enum Outcome : int { no = 0, yes = 1, failed = 2 };

Outcome truth(const Value &v) {  // a value in a boolean position
  if (v.kind == Kind::boolean) return v.boolean ? yes : no;
  return v.kind == Kind::null ? no : failed;
}
Outcome negate(Outcome o) { return o == failed ? failed : (o == yes ? no : yes); }
Outcome both(Outcome a, Outcome b) { return a == yes ? b : a; }  // `and`, short-circuit: b was not needed on no
Outcome order(const Value &v, bool holds) {  // `v OP number`: null is false, a non-number an error
  if (v.kind == Kind::number) return holds ? yes : no;
  return v.kind == Kind::null ? no : failed;
}
bool isString(const Value &v, std::string_view s) { return v.kind == Kind::string && v.string == s; }
Outcome groupsHave(const Fields &f, std::string_view name) {  // `"name" in user.app_metadata.groups`
  if (f.groupsKind == Kind::null) return no;
  if (f.groupsKind != Kind::list) return failed;
  for (auto g : f.groups)
    if (g == name) return yes;
  return no;
}
template <typename Test>
Outcome matches(const Value &v, Test test) {  // `v matches /re/`
  if (v.kind == Kind::string) return test(v.string) ? yes : no;
  return v.kind == Kind::null ? no : failed;
}

// The roles, sorted by name; a decision is a bit set over them.
const char *const roleNames[] = {"admin",  "eu",         "finance", "google_regular", "member",
                                 "mobile", "power_user", "sso",     "staff",          "unverified_consumer"};
enum Role : unsigned {
  admin = 1u << 0, eu = 1u << 1, finance = 1u << 2, google_regular = 1u << 3, member = 1u << 4,
  mobile = 1u << 5, power_user = 1u << 6, sso = 1u << 7, staff = 1u << 8, unverified_consumer = 1u << 9
};

// The ten rules of bench/roles.rules, in their order.
unsigned evaluate(const Fields &f) {
  unsigned roles = 0;
  // rule "member" when stats.logins_count == 1
  if (f.logins.kind == Kind::number && f.logins.number == 1) roles |= member;
  // rule "staff" when user.email matches /@acme\.com$/ and user.email_verified
  if (both(matches(f.email, [](std::string_view s) { return endsAtDollar(s, "@acme.com"); }), truth(f.verified)) == yes)
    roles |= staff;
  // rule "admin" when "admin" in user.app_metadata.groups
  if (groupsHave(f, "admin") == yes) roles |= admin;
  // rule "eu" when request.geoip.countryCode in ["AT","BE","DE","DK","ES","FI","FR","IE","IT","NL","PL","PT","SE"]
  if (f.country.kind == Kind::string && f.country.string.size() == 2) {
    static const char eu2[] = "ATBEDEDKESFIFRIEITNLPLPTSE";
    for (size_t i = 0; i < sizeof eu2 - 1; i += 2)
      if (f.country.string[0] == eu2[i] && f.country.string[1] == eu2[i + 1]) {
        roles |= eu;
        break;
      }
  }
  // rule "google_regular" when connection.strategy == "google-oauth2" and stats.logins_count > 10
  if (isString(f.strategy, "google-oauth2") && order(f.logins, f.logins.number > 10) == yes) roles |= google_regular;
  // rule "unverified_consumer" when user.email matches /@(gmail|yahoo|hotmail|outlook)\.com$/ and not user.email_verified
  Outcome consumer = matches(f.email, [](std::string_view s) {
    return endsAtDollar(s, "@gmail.com") || endsAtDollar(s, "@yahoo.com") || endsAtDollar(s, "@hotmail.com") ||
           endsAtDollar(s, "@outlook.com");
  });
  if (both(consumer, negate(truth(f.verified))) == yes) roles |= unverified_consumer;
  // rule "finance" when "billing" in user.app_metadata.groups or "finance" in user.app_metadata.groups
  Outcome billing = groupsHave(f, "billing");
  if (billing == yes || (billing == no && groupsHave(f, "finance") == yes)) roles |= finance;
  // rule "mobile" when request.user_agent matches /(iPhone|Android)/
  if (matches(f.agent, [](std::string_view s) { return contains(s, "iPhone") || contains(s, "Android"); }) == yes)
    roles |= mobile;
  // rule "power_user" when stats.logins_count >= 100 and user.app_metadata.plan == "enterprise"
  if (order(f.logins, f.logins.number >= 100) == yes && isString(f.plan, "enterprise")) roles |= power_user;
  // rule "sso" when connection.strategy in ["samlp","waad","adfs","oidc"] and user.email_verified
  if ((isString(f.strategy, "samlp") || isString(f.strategy, "waad") || isString(f.strategy, "adfs") ||
       isString(f.strategy, "oidc")) &&
      truth(f.verified) == yes)
    roles |= sso;
  return roles;
}

// The decision as the sorted list of role names (what a caller would hand on).
size_t roleList(unsigned roles, const char *out[10]) {
  size_t n = 0;
  for (unsigned i = 0; i < 10; i++)
    if (roles & (1u << i)) out[n++] = roleNames[i];
  return n;
}

std::string joined(unsigned roles) {
  const char *names[10];
  size_t n = roleList(roles, names);
  std::string text;
  for (size_t i = 0; i < n; i++) {
    if (i) text += ',';
    text += names[i];
  }
  return text;
}

// Keeps the compiler from assuming it knows what is behind `p` (so repeated evaluations are not folded into one).
inline void clobber(const void *p) { asm volatile("" : : "r"(p) : "memory"); }

template <typename Body>
double best(int passes, Body body) {
  double best = 1e300;
  for (int i = 0; i < passes; i++) {
    auto start = std::chrono::steady_clock::now();
    body();
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    best = std::min(best, elapsed.count());
  }
  return best;
}

// Checks every decision, then times the three passes and prints the report; `Parser` picks the extract above.
template <typename Parser>
int run(const char *mode, const padded_string &data, const std::vector<std::pair<size_t, size_t>> &lines,
        const std::vector<std::string_view> &expected) {
  Parser parser;
  const char *base = data.data();
  Fields fields;
  fields.groups.reserve(64);

  // Correctness first: every decision must match the oracle.
  size_t mismatches = lines.size() > expected.size() ? lines.size() - expected.size() : expected.size() - lines.size();
  for (size_t i = 0; i < lines.size() && i < expected.size(); i++) {
    auto error = extract(parser, base + lines[i].first, lines[i].second, fields);
    std::string got = error ? std::string("error: ") + error_message(error) : joined(evaluate(fields));
    if (got != expected[i]) {
      if (++mismatches <= 3)
        std::fprintf(stderr, "floor: line %zu: got \"%s\", expected \"%.*s\"\n", i + 1, got.c_str(),
                     int(expected[i].size()), expected[i].data());
    }
  }

  unsigned long sink = 0;
  const int repeats = 20;
  double full = best(7, [&] {
    const char *names[10];
    for (auto [start, length] : lines) {
      if (extract(parser, base + start, length, fields)) continue;
      size_t n = roleList(evaluate(fields), names);
      sink += n + (n ? names[n - 1][0] : 0);
    }
  });
  double readOnly = best(7, [&] {
    for (auto [start, length] : lines) {
      if (extract(parser, base + start, length, fields)) continue;
      clobber(&fields);
      sink += fields.groups.size();
    }
  });
  double readAndRepeat = best(7, [&] {
    for (auto [start, length] : lines) {
      if (extract(parser, base + start, length, fields)) continue;
      clobber(&fields);
      sink += fields.groups.size();
      for (int r = 0; r < repeats; r++) {
        clobber(&fields);
        sink += evaluate(fields);
      }
    }
  });
  double count = double(lines.size());
  double preParsed = (readAndRepeat - readOnly) / (count * repeats);
  std::printf(
      "{\"parser\":\"%s\",\"events\":%zu,\"bytes\":%zu,\"mismatches\":%zu,\"stage1\":\"%s\",\"ondemand\":\"%s\","
      "\"full_us_per_event\":%.6f,\"full_events_per_s\":%.1f,\"full_mb_per_s\":%.3f,"
      "\"read_us_per_event\":%.6f,\"preparsed_us_per_event\":%.6f,\"sink\":%lu}\n",
      mode, lines.size(), data.size(), mismatches, get_active_implementation()->name().c_str(),
      SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION),
      full / count * 1e6, count / full, double(data.size()) / full / 1e6, readOnly / count * 1e6, preParsed * 1e6,
      sink % 2);
  return mismatches == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv) {
  bool dom = argc == 4 && std::strcmp(argv[1], "--dom") == 0;
  bool all = argc == 4 && std::strcmp(argv[1], "--all") == 0;
  if (argc != 3 && !dom && !all) {
    std::fprintf(stderr, "usage: floor [--dom | --all] EVENTS.jsonl EXPECTED.txt\n");
    return 2;
  }
  if (dom || all) argv++;
  padded_string data;
  if (padded_string::load(argv[1]).get(data)) {
    std::fprintf(stderr, "floor: cannot read %s\n", argv[1]);
    return 2;
  }
  padded_string expectedText;
  if (padded_string::load(argv[2]).get(expectedText)) {
    std::fprintf(stderr, "floor: cannot read %s\n", argv[2]);
    return 2;
  }
  // Lines (without their "\n"). Each is parsed in place: whatever follows it in the buffer (the next lines, then
  // the padded_string's own padding) is readable, which is all simdjson's padding asks for.
  std::vector<std::pair<size_t, size_t>> lines;
  for (size_t start = 0, i = 0; i < data.size(); i++)
    if (data.data()[i] == '\n') {
      lines.emplace_back(start, i - start);
      start = i + 1;
    }
  std::vector<std::string_view> expected;
  {
    std::string_view text(expectedText.data(), expectedText.size());
    for (size_t start = 0, i = 0; i < text.size(); i++)
      if (text[i] == '\n') {
        expected.push_back(text.substr(start, i - start));
        start = i + 1;
      }
  }

  if (dom) return run<dom::parser>("dom", data, lines, expected);
  if (all) return run<WalkParser>("ondemand-all", data, lines, expected);
  return run<ondemand::parser>("ondemand", data, lines, expected);
}
