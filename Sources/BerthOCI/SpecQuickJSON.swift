/// A spec as JSON without JSONEncoder: the same members the synthesized `Encodable`
/// conformances write (nil optionals left out), for berthctl's `containers.create`, where
/// JSONEncoder's first use of the spec's types cost a fresh process ~1.3 ms of CPU here
/// (generic metadata and conformance scans, the same cost as `Spec.quickDecode` avoids).
/// SpecQuickJSONTests checks that JSONDecoder reads back exactly the spec written.
extension Spec {
    public func quickJSON() -> [UInt8] {
        var w = QuickJSONWriter()
        write(to: &w)
        return w.bytes
    }

    package func write(to w: inout QuickJSONWriter) {
        w.object { w in
            w.member("ociVersion", ociVersion)
            w.member("process", process) { $1.write(to: &$0) }
            w.member("root", root) { w, root in
                w.object { w in
                    w.member("path", root.path)
                    w.member("readonly", root.readonly)
                }
            }
            w.member("hostname", hostname)
            w.member("domainname", domainname)
            w.list("mounts", mounts) { w, m in
                w.object { w in
                    w.member("destination", m.destination)
                    w.member("type", m.type)
                    w.member("source", m.source)
                    w.member("options", m.options)
                }
            }
            w.member("hooks", hooks) { $1.write(to: &$0) }
            w.member("annotations", annotations)
            w.member("linux", linux) { $1.write(to: &$0) }
        }
    }
}

extension Spec.Hooks {
    package func write(to w: inout QuickJSONWriter) {
        func hooks(_ w: inout QuickJSONWriter, _ name: String, _ list: [Spec.Hook]?) {
            w.list(name, list) { w, h in
                w.object { w in
                    w.member("path", h.path)
                    w.member("args", h.args)
                    w.member("env", h.env)
                    w.member("timeout", h.timeout)
                }
            }
        }
        w.object { w in
            hooks(&w, "prestart", prestart)
            hooks(&w, "createRuntime", createRuntime)
            hooks(&w, "createContainer", createContainer)
            hooks(&w, "startContainer", startContainer)
            hooks(&w, "poststart", poststart)
            hooks(&w, "poststop", poststop)
        }
    }
}

extension Spec.Process {
    func write(to w: inout QuickJSONWriter) {
        w.object { w in
            w.member("terminal", terminal)
            w.member("consoleSize", consoleSize) { w, size in
                w.object { w in
                    w.member("height", size.height)
                    w.member("width", size.width)
                }
            }
            w.key("user")
            w.object { w in
                w.member("uid", user.uid)
                w.member("gid", user.gid)
                w.member("umask", user.umask)
                w.list("additionalGids", user.additionalGids) { $0.integer($1) }
                w.member("username", user.username)
            }
            w.member("args", args)
            w.member("commandLine", commandLine)
            w.member("env", env)
            w.member("cwd", cwd)
            w.member("capabilities", capabilities) { w, c in
                w.object { w in
                    w.member("bounding", c.bounding)
                    w.member("effective", c.effective)
                    w.member("inheritable", c.inheritable)
                    w.member("permitted", c.permitted)
                    w.member("ambient", c.ambient)
                }
            }
            w.list("rlimits", rlimits) { w, r in
                w.object { w in
                    w.member("type", r.type)
                    w.member("hard", r.hard)
                    w.member("soft", r.soft)
                }
            }
            w.member("noNewPrivileges", noNewPrivileges)
            w.member("apparmorProfile", apparmorProfile)
            w.member("oomScoreAdj", oomScoreAdj)
            w.member("selinuxLabel", selinuxLabel)
        }
    }
}

extension Spec.Linux {
    func write(to w: inout QuickJSONWriter) {
        func mappings(_ w: inout QuickJSONWriter, _ name: String, _ list: [Spec.IDMapping]?) {
            w.list(name, list) { w, m in
                w.object { w in
                    w.member("containerID", m.containerID)
                    w.member("hostID", m.hostID)
                    w.member("size", m.size)
                }
            }
        }
        w.object { w in
            mappings(&w, "uidMappings", uidMappings)
            mappings(&w, "gidMappings", gidMappings)
            w.member("sysctl", sysctl)
            w.member("resources", resources) { $1.write(to: &$0) }
            w.member("cgroupsPath", cgroupsPath)
            w.list("namespaces", namespaces) { w, n in
                w.object { w in
                    w.member("type", n.type)
                    w.member("path", n.path)
                }
            }
            w.list("devices", devices) { w, d in
                w.object { w in
                    w.member("type", d.type)
                    w.member("path", d.path)
                    w.member("major", d.major)
                    w.member("minor", d.minor)
                    w.member("fileMode", d.fileMode)
                    w.member("uid", d.uid)
                    w.member("gid", d.gid)
                }
            }
            w.member("seccomp", seccomp) { $1.write(to: &$0) }
            w.member("rootfsPropagation", rootfsPropagation)
            w.member("maskedPaths", maskedPaths)
            w.member("readonlyPaths", readonlyPaths)
            w.member("mountLabel", mountLabel)
            w.member("personality", personality) { w, p in
                w.object { w in
                    w.member("domain", p.domain)
                    w.member("flags", p.flags)
                }
            }
        }
    }
}

extension Spec.Seccomp {
    func write(to w: inout QuickJSONWriter) {
        w.object { w in
            w.member("defaultAction", defaultAction)
            w.member("defaultErrnoRet", defaultErrnoRet)
            w.member("architectures", architectures)
            w.member("flags", flags)
            w.member("listenerPath", listenerPath)
            w.list("syscalls", syscalls) { w, s in
                w.object { w in
                    w.member("names", s.names)
                    w.member("action", s.action)
                    w.member("errnoRet", s.errnoRet)
                    w.list("args", s.args) { w, a in
                        w.object { w in
                            w.member("index", a.index)
                            w.member("value", a.value)
                            w.member("valueTwo", a.valueTwo)
                            w.member("op", a.op)
                        }
                    }
                }
            }
        }
    }
}

extension Spec.Resources {
    func write(to w: inout QuickJSONWriter) {
        func throttle(_ w: inout QuickJSONWriter, _ name: String, _ list: [Spec.ThrottleDevice]?) {
            w.list(name, list) { w, t in
                w.object { w in
                    w.member("major", t.major)
                    w.member("minor", t.minor)
                    w.member("rate", t.rate)
                }
            }
        }
        w.object { w in
            w.list("devices", devices) { w, d in
                w.object { w in
                    w.member("allow", d.allow)
                    w.member("type", d.type)
                    w.member("major", d.major)
                    w.member("minor", d.minor)
                    w.member("access", d.access)
                }
            }
            w.member("memory", memory) { w, m in
                w.object { w in
                    w.member("limit", m.limit)
                    w.member("reservation", m.reservation)
                    w.member("swap", m.swap)
                    w.member("swappiness", m.swappiness)
                    w.member("disableOOMKiller", m.disableOOMKiller)
                }
            }
            w.member("cpu", cpu) { w, c in
                w.object { w in
                    w.member("shares", c.shares)
                    w.member("quota", c.quota)
                    w.member("burst", c.burst)
                    w.member("period", c.period)
                    w.member("realtimeRuntime", c.realtimeRuntime)
                    w.member("realtimePeriod", c.realtimePeriod)
                    w.member("cpus", c.cpus)
                    w.member("mems", c.mems)
                    w.member("idle", c.idle)
                }
            }
            w.member("pids", pids) { w, p in
                w.object { w in w.member("limit", p.limit) }
            }
            w.member("blockIO", blockIO) { w, b in
                w.object { w in
                    w.member("weight", b.weight)
                    w.member("leafWeight", b.leafWeight)
                    w.list("weightDevice", b.weightDevice) { w, d in
                        w.object { w in
                            w.member("major", d.major)
                            w.member("minor", d.minor)
                            w.member("weight", d.weight)
                            w.member("leafWeight", d.leafWeight)
                        }
                    }
                    throttle(&w, "throttleReadBpsDevice", b.throttleReadBpsDevice)
                    throttle(&w, "throttleWriteBpsDevice", b.throttleWriteBpsDevice)
                    throttle(&w, "throttleReadIOPSDevice", b.throttleReadIOPSDevice)
                    throttle(&w, "throttleWriteIOPSDevice", b.throttleWriteIOPSDevice)
                }
            }
            w.list("hugepageLimits", hugepageLimits) { w, h in
                w.object { w in
                    w.member("pageSize", h.pageSize)
                    w.member("limit", h.limit)
                }
            }
            w.member("unified", unified)
        }
    }
}
