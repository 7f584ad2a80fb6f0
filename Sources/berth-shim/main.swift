import BerthShim
import CBerthShim

// berth-shim start | spare ADDRESS | serve BUNDLE | serve --spare ADDRESS | delete [BUNDLE]
// Embedded Swift (Package.swift says why); the commands are BerthShim's.
func arguments() -> [String] {
    var words: [String] = []
    for i in 0..<Int(berth_shim_argc()) {
        if let word = berth_shim_argv()[i] { words.append(String(cString: word)) }
    }
    return words
}
Shim.main(arguments())
