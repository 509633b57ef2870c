import { headers } from "next/headers";
import { redirect } from "next/navigation";

import { auth } from "@/lib/auth";

import Tasks from "./tasks";

// The task list of the user in the path, which mirrors Latchkey's
// /api/{user_id}/tasks. The app does not check that the path is yours:
// Latchkey does (403), and the list says so.
export default async function TasksPage({ params }) {
  const { userId } = await params;
  const session = await auth.api.getSession({ headers: await headers() });
  if (!session) redirect("/sign-in");
  // Read per request (this page is dynamic: it reads the request's
  // headers), not inlined at build time as NEXT_PUBLIC_* would be.
  const latchkeyUrl = process.env.LATCHKEY_URL || "http://127.0.0.1:8080";
  return <Tasks latchkeyUrl={latchkeyUrl} userId={userId} me={{ id: session.user.id, email: session.user.email }} />;
}
