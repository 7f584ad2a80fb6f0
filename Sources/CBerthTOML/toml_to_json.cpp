// A thin bridge to toml++ (Debian's libtomlplusplus): Swift gets JSON and decodes it
// with Codable, so no TOML type crosses the language boundary.
#include "CBerthTOML.h"
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <toml++/toml.h>

static char *dup_string(const std::string &s) {
    char *out = static_cast<char *>(std::malloc(s.size() + 1));
    if (out) std::memcpy(out, s.c_str(), s.size() + 1);
    return out;
}

extern "C" char *berth_toml_to_json(const char *text, unsigned long length, char **error) {
    *error = nullptr;
    try {
        toml::table table = toml::parse(std::string_view(text, length));
        std::ostringstream out;
        out << toml::json_formatter{table};
        return dup_string(out.str());
    } catch (const toml::parse_error &err) {
        std::ostringstream msg;
        msg << "line " << err.source().begin.line << ", column " << err.source().begin.column
            << ": " << err.description();
        *error = dup_string(msg.str());
        return nullptr;
    } catch (const std::exception &err) {
        *error = dup_string(err.what());
        return nullptr;
    }
}
