ALTER TABLE "agents" ADD COLUMN "host" text;--> statement-breakpoint
ALTER TABLE "streams" ADD COLUMN "worktree_host" text;