package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shopguard/shopguard/internal/apikey"
	"github.com/shopguard/shopguard/internal/dashboard"
	"github.com/shopguard/shopguard/internal/storage"
)

// userStore is what the users commands need.
type userStore interface {
	CreateUser(ctx context.Context, u storage.User) error
	UserByName(ctx context.Context, name string) (storage.User, error)
	Users(ctx context.Context, tenant string) ([]storage.User, error)
	UpdateUser(ctx context.Context, u storage.User) error
	DeleteUserSessions(ctx context.Context, userName string) error
	AppendAudit(ctx context.Context, e *storage.AuditEntry) error
}

func newUsers(env *Env, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Create, list and disable dashboard users"}
	var tenant, name, role string
	var passwordStdin bool
	create := &cobra.Command{
		Use:   "create --tenant T --name N [--role admin|analyst]",
		Short: "Create a dashboard user and print a generated password (or read one with --password-stdin)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !apikey.ValidTenant(tenant) {
				return usageError{fmt.Errorf("--tenant %q must be 1-64 characters of a-z, 0-9, '-' and '_'", tenant)}
			}
			password := dashboard.NewPassword()
			if passwordStdin {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && line == "" {
					return usageError{fmt.Errorf("--password-stdin: no password on standard input")}
				}
				password = strings.TrimRight(line, "\r\n")
			}
			u, err := dashboard.NewUser(name, tenant, role, password, time.Now())
			if errors.Is(err, dashboard.ErrInvalidUser) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			return withStorage(env, g, cmd, func(ctx context.Context, st userStore) error {
				if err := st.CreateUser(ctx, u); err != nil {
					return err
				}
				if err := st.AppendAudit(ctx, &storage.AuditEntry{Tenant: tenant, At: time.Now(), Actor: "cli",
					Action: "user.create", Target: name, Detail: "role " + role}); err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "created %s user %s for tenant %s; sign in at /dashboard/\n", role, name, tenant)
				if !passwordStdin {
					fmt.Fprintln(env.Stderr, "password (shown only now):")
					fmt.Fprintln(env.Stdout, password)
				}
				return nil
			})
		},
	}
	create.Flags().StringVar(&tenant, "tenant", "", "tenant (shop) the user works for (required)")
	create.Flags().StringVar(&name, "name", "", "sign-in name, e.g. ana (required)")
	create.Flags().StringVar(&role, "role", dashboard.RoleAnalyst, "admin (rules, lists, keys, users) or analyst (review, labels)")
	create.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	_ = create.MarkFlagRequired("tenant")
	_ = create.MarkFlagRequired("name")

	var listTenant string
	list := &cobra.Command{
		Use:   "list",
		Short: "List dashboard users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStorage(env, g, cmd, func(ctx context.Context, st userStore) error {
				us, err := st.Users(ctx, listTenant)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tTENANT\tROLE\tCREATED\tDISABLED")
				for _, u := range us {
					disabled := "-"
					if !u.DisabledAt.IsZero() {
						disabled = u.DisabledAt.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, u.Tenant, u.Role, u.CreatedAt.Format(time.RFC3339), disabled)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&listTenant, "tenant", "", "only this tenant's users")

	disable := &cobra.Command{
		Use:   "disable NAME",
		Short: "Disable a user and end their sessions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStorage(env, g, cmd, func(ctx context.Context, st userStore) error {
				u, err := st.UserByName(ctx, args[0])
				if err != nil {
					return err
				}
				u.DisabledAt = time.Now()
				if err := st.UpdateUser(ctx, u); err != nil {
					return err
				}
				if err := st.DeleteUserSessions(ctx, u.Name); err != nil {
					return err
				}
				return st.AppendAudit(ctx, &storage.AuditEntry{Tenant: u.Tenant, At: time.Now(), Actor: "cli", Action: "user.disable", Target: u.Name})
			})
		},
	}
	cmd.AddCommand(create, list, disable)
	return cmd
}
