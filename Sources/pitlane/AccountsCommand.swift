import ArgumentParser
import Foundation
import PitlaneCore
import PitlaneServer

#if canImport(Glibc)
    import Glibc
#endif

/// The options every account command shares: where the data directory is.
struct AccountOptions: ParsableArguments {
    @OptionGroup var options: ConfigOptions

    @Option(name: .long, help: "Pitlane's data directory (default: server.data_dir, else ~/.local/share/pitlane).")
    var dataDir: String?

    func accounts() throws -> Accounts {
        let settings = try options.load()
        let directory = dataDir ?? settings.server.dataDir ?? PitlaneApplication.defaultDataDir()
        umask(0o077)
        do {
            let store = try SQLiteAccountStore(path: PitlaneApplication.accountsPath(dataDir: URL(fileURLWithPath: directory)))
            return Accounts(store: store, sessionLifetime: settings.auth.sessionLifetime)
        } catch {
            throw Failure.usage("cannot open the accounts in \(directory): \(error)")
        }
    }
}

/// Runs an account operation, printing an `AccountError` as one line with exit code 1.
func accountOperation(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as AccountError {
        throw Failure.exit(error.description, code: 1)
    }
}

/// Reads a new password: from standard input with `--password-stdin` (scripts), else asked twice.
func readNewPassword(fromStandardInput: Bool) throws -> String {
    if fromStandardInput {
        guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw Failure.usage("no password on standard input") }
        return line
    }
    guard isatty(STDIN_FILENO) == 1 else { throw Failure.usage("standard input is not a terminal: use --password-stdin") }
    guard let first = getpass("Password: ").map({ String(cString: $0) }), let second = getpass("Again: ").map({ String(cString: $0) })
    else { throw Failure.usage("no password given") }
    guard first == second else { throw Failure.exit("the two passwords differ", code: 1) }
    return first
}

struct UsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Manage the accounts of auth.mode: password.",
        subcommands: [Add.self, List.self, Remove.self, Passwd.self, Token.self], defaultSubcommand: List.self)

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user (asks for the password).")
        @OptionGroup var account: AccountOptions
        @Argument(help: "The user's name (letters, digits, '.', '-', '_').") var name: String
        @Flag(name: .long, help: "Read the password from standard input.") var passwordStdin = false

        func run() throws {
            let accounts = try account.accounts()
            // Said before the password is asked for, not after it was typed twice.
            if (try? accounts.account(name)) != nil { throw Failure.exit(AccountError.exists(name).description, code: 1) }
            let password = try readNewPassword(fromStandardInput: passwordStdin)
            try accountOperation { try accounts.addUser(name, password: password) }
            print("Added \(name). Their playback token: pitlane users token \(name)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the users.")
        @OptionGroup var account: AccountOptions

        func run() throws {
            let users = try account.accounts().users()
            guard !users.isEmpty else {
                print("No users. Add one with: pitlane users add NAME")
                return
            }
            let format = Date.ISO8601FormatStyle()
            print(Table.render([["NAME", "CREATED"]] + users.map { [$0.name, $0.createdAt.formatted(format)] }))
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a user, their sessions and their API tokens.")
        @OptionGroup var account: AccountOptions
        @Argument var name: String

        func run() throws {
            let accounts = try account.accounts()
            try accountOperation { try accounts.removeUser(name) }
            print("Removed \(name).")
        }
    }

    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a user's password (signs their browsers out).")
        @OptionGroup var account: AccountOptions
        @Argument var name: String
        @Flag(name: .long, help: "Read the password from standard input.") var passwordStdin = false

        func run() throws {
            let accounts = try account.accounts()
            if (try? accounts.account(name)) == nil { throw Failure.exit(AccountError.noSuchUser(name).description, code: 1) }
            let password = try readNewPassword(fromStandardInput: passwordStdin)
            try accountOperation { try accounts.setPassword(name, password: password) }
            print("Password of \(name) changed.")
        }
    }

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a user's playback token and their player playlist path; --reset makes a new one (the old links stop).")
        @OptionGroup var account: AccountOptions
        @Argument var name: String
        @Flag(name: .long, help: "Replace the token: every link with the old one stops working.") var reset = false

        func run() throws {
            let accounts = try account.accounts()
            try accountOperation {
                if reset { try accounts.resetPlaybackToken(name) }
                guard let user = try accounts.account(name) else { throw AccountError.noSuchUser(name) }
                print(user.playbackToken)
                print("Players: http://HOST:PORT/t/\(user.playbackToken)/playlist.m3u", to: &standardError)
            }
        }
    }
}

struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "Manage API bearer tokens for scripts (Authorization: Bearer …).",
        subcommands: [Create.self, List.self, Revoke.self], defaultSubcommand: List.self)

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token; it is printed once and stored only as its hash.")
        @OptionGroup var account: AccountOptions
        @Option(name: .long, help: "The user the token acts as.") var user: String
        @Argument(help: "What the token is for (shown by `tokens list`).") var label: String

        func run() throws {
            let accounts = try account.accounts()
            try accountOperation {
                let created = try accounts.createAPIToken(label: label, user: user)
                print(created.token)
                print("Token \(created.id) for \(user) created; it is not shown again.", to: &standardError)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the API tokens (not the tokens themselves).")
        @OptionGroup var account: AccountOptions

        func run() throws {
            let tokens = try account.accounts().apiTokens()
            guard !tokens.isEmpty else {
                print("No API tokens. Create one with: pitlane tokens create --user NAME LABEL")
                return
            }
            let format = Date.ISO8601FormatStyle()
            print(
                Table.render(
                    [["ID", "USER", "LABEL", "CREATED"]] + tokens.map { [$0.id, $0.user, $0.label, $0.createdAt.formatted(format)] }))
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API token by its id.")
        @OptionGroup var account: AccountOptions
        @Argument var id: String

        func run() throws {
            let accounts = try account.accounts()
            try accountOperation { try accounts.revokeAPIToken(id: id) }
            print("Revoked \(id).")
        }
    }
}

/// Standard error as a `TextOutputStream`, for notes beside a printed secret (scripts read stdout).
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) { FileHandle.standardError.write(Data(string.utf8)) }
}
nonisolated(unsafe) var standardError = StandardError()
