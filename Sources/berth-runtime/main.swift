import BerthRuntime

// The container init is the same binary, exec'd by the spawn child: it must not parse
// the command line of a runtime invocation, so it is dispatched before anything else.
if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "init" {
    ContainerInit.main()
}

RuntimeCommand.entry()
